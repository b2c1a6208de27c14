// Parameters: a model's learned values in one flat float buffer, laid out by its
// parameter table; initialized from a seed, loaded from and saved to safetensors files
// with PyTorch's names and layouts (conv1.weight OIHW, fc1.weight [out, in], ...).
#pragma once
#include "dsl/model_view.hpp"
#include "runtime/safetensors.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kiln {

class Parameters {
 public:
  explicit Parameters(const ModelView& model);

  // Weights drawn from the table's initializers (He or Xavier normal, or a constant such
  // as prelu's 0.25), biases zero.
  void initialize(uint64_t seed);
  // Every tensor of the table must be present with its shape and hold finite values;
  // other tensors (BN's num_batches_tracked, optimizer state) are ignored.
  void load(const std::string& path);
  void save(const std::string& path, const Metadata& metadata = {}) const;
  // One tensor per table entry, in PyTorch's layout, cut from `flat` (these values, or
  // a buffer laid out like them such as a gradient), names prefixed by `prefix`.
  TensorMap tensors(std::span<const float> flat, std::string_view prefix = {}) const;

  std::span<float> values() { return values_; }
  std::span<const float> values() const { return values_; }
  float* data() { return values_.data(); }
  const float* data() const { return values_.data(); }
  std::size_t size() const { return values_.size(); }
  const ModelView& model() const { return model_; }

 private:
  ModelView model_;
  std::vector<float> values_;
};

// The shape of a table entry as a safetensors shape.
std::vector<int64_t> tensor_shape(const Parameter& p);

}  // namespace kiln
