#include "runtime/tensor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "runtime/error.hpp"

namespace kiln {

// Tensor bytes are copied as they lie in memory, and files hold them little-endian.
static_assert(std::endian::native == std::endian::little);

namespace {

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  size_t size;
};

constexpr DTypeInfo dtypes[] = {
    {DType::F32, "F32", 4}, {DType::F64, "F64", 8}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
    {DType::I16, "I16", 2}, {DType::I8, "I8", 1}, {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1},
};

const DTypeInfo& info(DType dtype) {
  for (const DTypeInfo& entry : dtypes)
    if (entry.dtype == dtype) return entry;
  fail("dtype {} is not one kiln knows", static_cast<int>(dtype));
}

template <class T>
Tensor tensor_from(DType dtype, std::vector<int64_t> shape, std::span<const T> values) {
  Tensor tensor{dtype, std::move(shape), {}};
  if (tensor.elements() != static_cast<int64_t>(values.size()))
    fail("{} tensor of shape [{}] needs {} values, got {}", dtype_name(dtype),
         fmt::join(tensor.shape, ", "), tensor.elements(), values.size());
  tensor.data.assign(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  return tensor;
}

// The tensor's elements as T, which must be its dtype's C++ type.
template <class T>
std::vector<T> elements_as(const Tensor& tensor, std::string_view name, std::string_view file) {
  size_t count = static_cast<size_t>(tensor.elements());
  if (tensor.data.size() != count * sizeof(T))
    fail("{}: tensor '{}' has {} bytes of data, but shape [{}] of {} needs {}", file,
         shown_name(name), tensor.data.size(), fmt::join(tensor.shape, ", "),
         dtype_name(tensor.dtype), count * sizeof(T));
  std::vector<T> values(count);
  std::memcpy(values.data(), tensor.data.data(), tensor.data.size());
  return values;
}

}  // namespace

std::string_view dtype_name(DType dtype) { return info(dtype).name; }
size_t dtype_size(DType dtype) { return info(dtype).size; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const DTypeInfo& entry : dtypes)
    if (entry.name == name) return entry.dtype;
  return std::nullopt;
}

std::string shown_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  return out;
}

int64_t Tensor::elements() const {
  int64_t count = 1;
  for (int64_t extent : shape) count *= extent;
  return count;
}

Tensor f32_tensor(std::vector<int64_t> shape, std::span<const float> values) {
  return tensor_from(DType::F32, std::move(shape), values);
}
Tensor i64_tensor(std::vector<int64_t> shape, std::span<const int64_t> values) {
  return tensor_from(DType::I64, std::move(shape), values);
}
Tensor i32_tensor(std::vector<int64_t> shape, std::span<const int32_t> values) {
  return tensor_from(DType::I32, std::move(shape), values);
}

std::vector<float> tensor_floats(const Tensor& tensor, std::string_view name,
                                 std::string_view file) {
  if (tensor.dtype == DType::F32) return elements_as<float>(tensor, name, file);
  if (tensor.dtype != DType::F64)
    fail("{}: tensor '{}' has dtype {}, expected F32 or F64", file, shown_name(name),
         dtype_name(tensor.dtype));
  std::vector<double> wide = elements_as<double>(tensor, name, file);
  return std::vector<float>(wide.begin(), wide.end());
}

std::vector<int32_t> tensor_int32s(const Tensor& tensor, std::string_view name,
                                   std::string_view file) {
  if (tensor.dtype == DType::I32) return elements_as<int32_t>(tensor, name, file);
  if (tensor.dtype != DType::I64)
    fail("{}: tensor '{}' has dtype {}, expected I32 or I64", file, shown_name(name),
         dtype_name(tensor.dtype));
  std::vector<int64_t> wide = elements_as<int64_t>(tensor, name, file);
  std::vector<int32_t> narrow(wide.size());
  for (size_t i = 0; i < wide.size(); ++i) {
    if (wide[i] < INT32_MIN || wide[i] > INT32_MAX)
      fail("{}: tensor '{}' holds {} at index {}, outside the int32 range", file, shown_name(name),
           wide[i], i);
    narrow[i] = static_cast<int32_t>(wide[i]);
  }
  return narrow;
}

const Tensor& require(const TensorMap& tensors, std::string_view name, std::string_view file) {
  auto found = tensors.find(std::string(name));
  if (found == tensors.end()) fail("{}: missing tensor '{}'", file, shown_name(name));
  return found->second;
}

void require_shape(const Tensor& tensor, std::span<const int64_t> expected,
                   std::string_view name, std::string_view file) {
  if (!std::ranges::equal(tensor.shape, expected))
    fail("{}: tensor '{}' has shape [{}], expected [{}]", file, shown_name(name),
         fmt::join(tensor.shape, ", "), fmt::join(expected, ", "));
}

void require_dtype(const Tensor& tensor, DType expected, std::string_view name,
                   std::string_view file) {
  if (tensor.dtype != expected)
    fail("{}: tensor '{}' has dtype {}, expected {}", file, shown_name(name),
         dtype_name(tensor.dtype), dtype_name(expected));
}

}  // namespace kiln
