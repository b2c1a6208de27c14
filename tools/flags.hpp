// Command-line flags: `--name value` pairs and positional arguments, checked against
// the flags a command knows, with one-line errors that name the flag.
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::cli {

class Flags {
 public:
  // args: everything after the command name. known: the flags this command takes;
  // positional: how many other arguments it takes (the model, an image); switches: flags
  // that take no value (has() says whether they were given).
  Flags(const std::vector<std::string>& args, std::vector<std::string> known, int positional,
        std::vector<std::string> switches = {});

  bool has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
  std::string text(std::string_view name, std::string_view fallback) const;
  // A value that must be given: kiln::Error "--weights is required".
  std::string required(std::string_view name) const;
  int positive_int(std::string_view name, int fallback) const;
  int non_negative_int(std::string_view name, int fallback) const;
  float positive_float(std::string_view name, float fallback) const;
  float non_negative_float(std::string_view name, float fallback) const;
  unsigned long long seed(std::string_view name, unsigned long long fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace kiln::cli
