// The model registry: every model built by kiln_add_model registers its view and its
// AOT entries (one per entry and target) here before main() runs.
#pragma once
#include "dsl/model_view.hpp"
#include "dsl/recipe.hpp"

#include <HalideRuntime.h>

#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// One generated function: <model>_<entry>_<target>_argv and its metadata.
struct EntryRecord {
  const char* target;  // the Halide target string it was built for ("host", ...)
  const char* entry;   // "forward", "gradients", "train_step" or "attention"
  int (*argv)(void** args);
  const halide_filter_metadata_t* (*metadata)();
  // Whether train_step may write params', m', v' over params, m, v. The hand schedules
  // finish every gradient before the first write; an autoscheduler promises no such
  // order, so its outputs go to separate buffers.
  bool updates_in_place;
  // Whether train_step clips gradients (HyperParameters::clip_norm): the hand schedules
  // do; Halide 14's Mullapudi2016 cannot schedule the norm (generators/optimizer.hpp).
  bool clips_gradients;
};

// The device a Halide target string runs on, as kiln's --target names it: "cuda",
// "opencl" or "cpu" (host, arm-64-linux, ...).
std::string_view device_of(std::string_view halide_target);

struct RegisteredModel {
  std::string name;  // as kiln_add_model named it: the model, or a variant of it
  ModelView view;
  Recipe recipe;
  std::vector<EntryRecord> entries;
  // The entry built for a target, named as a device (cpu, cuda, opencl) or by the exact
  // Halide target string; kiln::Error naming both when there is none.
  const EntryRecord& entry(std::string_view name, std::string_view target) const;
  // The same, or nullptr when there is none.
  const EntryRecord* find_entry(std::string_view name, std::string_view target) const;
};

// A static Registration object registers one model.
struct Registration {
  Registration(std::string name, ModelView view, Recipe recipe, std::vector<EntryRecord> entries);
};

// kiln::Error "unknown model 'x' (known: lenet5, ...)" when there is no such model. A
// '-' in the name reads as '_' (char-lstm is char_lstm).
const RegisteredModel& find_model(std::string_view name);
std::vector<std::string> model_names();

}  // namespace kiln
