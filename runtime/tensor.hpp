// Host tensors as they come out of (and go into) weight files: a dtype, a shape and raw
// bytes. Helpers build them from values, read values back, and check what a model
// expects, failing with one-line messages that name the file and the tensor.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

enum class DType { F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL };

std::string_view dtype_name(DType dtype);  // as safetensors spells it: "F32", "BOOL"
size_t dtype_size(DType dtype);            // bytes per element
std::optional<DType> dtype_from_name(std::string_view name);

struct Tensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // [] is a scalar (one element)
  std::string data;            // raw bytes, little-endian, elements() * dtype_size(dtype)

  int64_t elements() const;
  friend bool operator==(const Tensor&, const Tensor&) = default;  // bitwise on data
};

using TensorMap = std::map<std::string, Tensor>;

// Build tensors from values; values.size() must equal the shape's element count.
Tensor f32_tensor(std::vector<int64_t> shape, std::span<const float> values);
Tensor i64_tensor(std::vector<int64_t> shape, std::span<const int64_t> values);
Tensor i32_tensor(std::vector<int64_t> shape, std::span<const int32_t> values);

// A tensor's values, row-major. `name` and `file` only label errors.
// floats: from F32 (bit-exact) or F64 (rounded to nearest).
std::vector<float> tensor_floats(const Tensor& tensor, std::string_view name,
                                 std::string_view file);
// int32s: from I32, or from I64 when every value fits in int32.
std::vector<int32_t> tensor_int32s(const Tensor& tensor, std::string_view name,
                                   std::string_view file);

// Lookups that fail with messages a user can act on:
//   "FILE: missing tensor 'NAME'"
//   "FILE: tensor 'NAME' has shape [a, b], expected [c, d]"
//   "FILE: tensor 'NAME' has dtype I64, expected F32"
const Tensor& require(const TensorMap& tensors, std::string_view name, std::string_view file);
void require_shape(const Tensor& tensor, std::span<const int64_t> expected,
                   std::string_view name, std::string_view file);
void require_dtype(const Tensor& tensor, DType expected, std::string_view name,
                   std::string_view file);

// A name read from a file, with control characters escaped (\x0a) so that messages
// quoting it stay on one line.
std::string shown_name(std::string_view name);

}  // namespace kiln
