#include "tools/flags.hpp"

#include "runtime/error.hpp"

#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace kiln::cli {

Flags::Flags(const std::vector<std::string>& args, std::vector<std::string> known,
             int positional, std::vector<std::string> switches) {
  for (std::size_t k = 0; k < args.size(); ++k) {
    const std::string& a = args[k];
    if (a.rfind("--", 0) != 0) {
      if (a.size() > 1 && a[0] == '-') fail("unexpected argument '{}' (flags start with --)", a);
      if (int(positional_.size()) == positional) fail("unexpected argument '{}'", a);
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    if (std::find(switches.begin(), switches.end(), name) != switches.end()) {
      values_[name] = "yes";
      continue;
    }
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (k + 1 < args.size()) {
      value = args[++k];
    } else {
      fail("--{} needs a value", name);
    }
    if (value.empty()) fail("--{} needs a value, got an empty one", name);
    if (std::find(known.begin(), known.end(), name) == known.end())
      fail("unknown flag --{} (known: --{})", name, fmt::join(known, ", --"));
    values_[name] = value;
  }
}

std::string Flags::text(std::string_view name, std::string_view fallback) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? std::string(fallback) : it->second;
}

std::string Flags::required(std::string_view name) const {
  if (!has(name)) fail("--{} is required", name);
  return text(name, "");
}

namespace {

template <class T>
T parse_number(std::string_view name, const std::string& s,
               bool allow_zero, std::string_view kind) {
  errno = 0;
  char* end = nullptr;
  double v = std::is_integral_v<T> ? double(std::strtoll(s.c_str(), &end, 10))
                                   : std::strtod(s.c_str(), &end);
  const bool ok = !s.empty() && end && *end == '\0' && errno == 0 && std::isfinite(v) &&
                  (allow_zero ? v >= 0 : v > 0) && v <= (std::is_integral_v<T> ? 2e9 : 1e30);
  if (!ok) fail("--{} expects {}, got '{}'", name, kind, s);
  return T(v);
}

}  // namespace

int Flags::positive_int(std::string_view name, int fallback) const {
  return has(name) ? parse_number<int>(name, text(name, ""), false, "a positive integer")
                   : fallback;
}
int Flags::non_negative_int(std::string_view name, int fallback) const {
  return has(name) ? parse_number<int>(name, text(name, ""), true, "a non-negative integer")
                   : fallback;
}
float Flags::positive_float(std::string_view name, float fallback) const {
  return has(name) ? parse_number<float>(name, text(name, ""), false, "a positive number")
                   : fallback;
}
float Flags::non_negative_float(std::string_view name, float fallback) const {
  return has(name) ? parse_number<float>(name, text(name, ""), true, "a non-negative number")
                   : fallback;
}
unsigned long long Flags::seed(std::string_view name, unsigned long long fallback) const {
  return has(name) ? (unsigned long long)parse_number<long long>(name, text(name, ""), true,
                                                                 "a non-negative integer")
                   : fallback;
}

}  // namespace kiln::cli
