#include "runtime/registry.hpp"

#include "runtime/error.hpp"

#include <fmt/ranges.h>

#include <algorithm>
#include <map>

namespace kiln {

namespace {
std::map<std::string, RegisteredModel, std::less<>>& registry() {
  static std::map<std::string, RegisteredModel, std::less<>> models;
  return models;
}
}  // namespace

Registration::Registration(std::string name, ModelView view, Recipe recipe,
                           std::vector<EntryRecord> entries) {
  registry()[name] = RegisteredModel{name, view, recipe, std::move(entries)};
}

std::string_view device_of(std::string_view halide_target) {
  if (halide_target.find("cuda") != std::string_view::npos) return "cuda";
  if (halide_target.find("opencl") != std::string_view::npos) return "opencl";
  return "cpu";
}

namespace {
bool built_for(const EntryRecord& e, std::string_view target) {
  return target == e.target || target == device_of(e.target);
}
}  // namespace

const EntryRecord* RegisteredModel::find_entry(std::string_view name, std::string_view target) const {
  for (const EntryRecord& e : entries)
    if (name == e.entry && built_for(e, target)) return &e;
  return nullptr;
}

const EntryRecord& RegisteredModel::entry(std::string_view name, std::string_view target) const {
  if (const EntryRecord* e = find_entry(name, target)) return *e;
  std::vector<std::string> targets, here;
  for (const EntryRecord& e : entries) {
    if (name == e.entry) targets.push_back(fmt::format("{} ({})", device_of(e.target), e.target));
    if (built_for(e, target)) here.push_back(e.entry);
  }
  if (here.empty())  // a target this model was never built for
    fail("{}: no '{}' entry built for target '{}' (targets built: {})", this->name, name, target,
         fmt::join(targets, ", "));
  fail("{}: no '{}' entry built for target '{}' (built there: {}; its kiln_add_model() in "
       "models/CMakeLists.txt lists which are built)", this->name, name, target, fmt::join(here, ", "));
}

const RegisteredModel& find_model(std::string_view name) {
  // Models are C identifiers (char_lstm); the command line may say char-lstm.
  std::string key(name);
  std::replace(key.begin(), key.end(), '-', '_');
  auto it = registry().find(key);
  if (it == registry().end())
    fail("unknown model '{}' (known: {})", name, fmt::join(model_names(), ", "));
  return it->second;
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& [name, m] : registry()) names.push_back(name);
  return names;
}

}  // namespace kiln
