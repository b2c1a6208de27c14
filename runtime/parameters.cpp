#include "runtime/parameters.hpp"

#include "runtime/error.hpp"
#include "runtime/random.hpp"

#include <algorithm>
#include <cmath>

namespace kiln {

namespace {
// Box-Muller from two uniform draws.
double standard_normal(SplitMix64& rng) {
  const double u = 1.0 - double(rng.next() >> 11) * 0x1.0p-53;
  const double v = double(rng.next() >> 11) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
}
}  // namespace

std::vector<int64_t> tensor_shape(const Parameter& p) {
  return std::vector<int64_t>(p.shape.dims, p.shape.dims + p.shape.rank);
}

Parameters::Parameters(const ModelView& model)
    : model_(model), values_(std::size_t(model.parameter_count), 0.0f) {}

void Parameters::initialize(uint64_t seed) {
  SplitMix64 rng(seed);
  for (const Parameter& p : model_.parameters) {
    double stddev = 0.0;
    if (p.init == Init::he) stddev = std::sqrt(2.0 / p.fan_in);
    if (p.init == Init::xavier) stddev = std::sqrt(2.0 / (p.fan_in + p.fan_out));
    // Drawn in PyTorch's order, so a seed gives the same tensors whatever the storage.
    std::vector<float> v(std::size_t(p.size()), p.init_value);
    if (p.init != Init::constant)
      for (float& x : v) x = float(stddev * standard_normal(rng));
    scatter_to_storage(p, v.data(), values_.data());
  }
}

void Parameters::load(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  for (const Parameter& p : model_.parameters) {
    const std::string name(p.name.view());
    const Tensor& t = require(file.tensors, name, path);
    const std::vector<int64_t> shape = tensor_shape(p);
    require_shape(t, shape, name, path);
    const std::vector<float> v = tensor_floats(t, name, path);
    for (std::size_t k = 0; k < v.size(); ++k)
      if (!std::isfinite(v[k])) fail("{}: tensor '{}' holds a non-finite value at element {}", path, name, k);
    scatter_to_storage(p, v.data(), values_.data());
  }
}

TensorMap Parameters::tensors(std::span<const float> flat, std::string_view prefix) const {
  TensorMap out;
  std::vector<float> v;
  for (const Parameter& p : model_.parameters) {
    v.resize(std::size_t(p.size()));
    gather_from_storage(p, flat.data(), v.data());
    out[std::string(prefix) + std::string(p.name.view())] = f32_tensor(tensor_shape(p), v);
  }
  return out;
}

void Parameters::save(const std::string& path, const Metadata& metadata) const {
  save_safetensors(path, tensors(values_), metadata);
}

}  // namespace kiln
