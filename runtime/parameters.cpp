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
    : model_(model),
      values_(std::size_t(model.parameter_count), 0.0f),
      buffers_(std::size_t(std::max<long long>(1, model.buffer_count)), 0.0f) {}

void Parameters::initialize(uint64_t seed) {
  SplitMix64 rng(seed);
  for (const Parameter& p : model_.parameters) {
    double stddev = 0.0;
    if (p.init == Init::he) stddev = std::sqrt(2.0 / p.fan_in);
    if (p.init == Init::xavier) stddev = std::sqrt(2.0 / (p.fan_in + p.fan_out));
    // Drawn in PyTorch's order, so a seed gives the same tensors whatever the storage.
    std::vector<float> v(std::size_t(p.size()), p.init_value);
    if (p.init == Init::normal) stddev = 1.0;
    if (p.init == Init::uniform_hidden) {  // init_value is the bound
      for (float& x : v) x = p.init_value * float(2.0 * (double(rng.next() >> 11) * 0x1.0p-53) - 1.0);
    } else if (p.init != Init::constant) {
      for (float& x : v) x = float(stddev * standard_normal(rng));
    }
    scatter_to_storage(p, v.data(), values_.data());
  }
  for (const Parameter& b : model_.buffers)  // running_var starts at 1, the rest at 0
    std::fill_n(buffers_.data() + b.offset, b.size(), b.init == Init::constant ? b.init_value : 0.0f);
}

void Parameters::load(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  auto read = [&](const Parameter& p, float* flat) {
    const std::string name(p.name.view());
    const Tensor& t = require(file.tensors, name, path);
    const std::vector<int64_t> shape = tensor_shape(p);
    require_shape(t, shape, name, path);
    const std::vector<float> v = tensor_floats(t, name, path);
    for (std::size_t k = 0; k < v.size(); ++k)
      if (!std::isfinite(v[k])) fail("{}: tensor '{}' holds a non-finite value at element {}", path, name, k);
    scatter_to_storage(p, v.data(), flat);
  };
  for (const Parameter& p : model_.parameters) read(p, values_.data());
  for (const Parameter& b : model_.buffers)
    if (b.role != ParameterRole::batches_tracked) read(b, buffers_.data());
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

TensorMap Parameters::buffer_tensors() const {
  TensorMap out;
  for (const Parameter& b : model_.buffers) {
    const std::string name(b.name.view());
    if (b.role == ParameterRole::batches_tracked) {
      const int64_t count = int64_t(buffers_[std::size_t(b.offset)]);
      out[name] = i64_tensor({}, std::span(&count, 1));
    } else {
      out[name] = f32_tensor(tensor_shape(b), std::span(buffers_).subspan(b.offset, b.size()));
    }
  }
  return out;
}

void Parameters::save(const std::string& path, const Metadata& metadata) const {
  TensorMap all = tensors(values_);
  all.merge(buffer_tensors());
  save_safetensors(path, all, metadata);
}

}  // namespace kiln
