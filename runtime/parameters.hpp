// Parameters: a model's learned values in one flat float buffer and its buffers (batch
// norm's running statistics) in a second, laid out by its parameter table; initialized
// from a seed, loaded from and saved to safetensors files with PyTorch's names and
// layouts (conv1.weight OIHW, fc1.weight [out, in], bn1.running_mean, ...), so that a
// torchvision state_dict loads as it is and kiln's files load into PyTorch.
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
  // num_batches_tracked and tensors the model lacks (optimizer state) are ignored.
  void load(const std::string& path);
  void save(const std::string& path, const Metadata& metadata = {}) const;
  // One tensor per learned table entry, in PyTorch's layout, cut from `flat` (these
  // values, or a buffer laid out like them such as a gradient), names prefixed by
  // `prefix`.
  TensorMap tensors(std::span<const float> flat, std::string_view prefix = {}) const;
  // The buffers as PyTorch's state_dict holds them (num_batches_tracked as int64).
  TensorMap buffer_tensors() const;

  std::span<float> values() { return values_; }
  std::span<const float> values() const { return values_; }
  float* data() { return values_.data(); }
  const float* data() const { return values_.data(); }
  std::size_t size() const { return values_.size(); }
  const ModelView& model() const { return model_; }
  // The flat buffer of buffers: at least one float, as the generated entries take it.
  float* buffers() { return buffers_.data(); }
  const float* buffers() const { return buffers_.data(); }
  std::span<const float> buffer_values() const { return buffers_; }

 private:
  ModelView model_;
  std::vector<float> values_;
  std::vector<float> buffers_;
};

// The shape of a table entry as a safetensors shape.
std::vector<int64_t> tensor_shape(const Parameter& p);

}  // namespace kiln
