#include "runtime/safetensors.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

#include "runtime/error.hpp"
#include "runtime/files.hpp"
#include "runtime/json.hpp"

namespace kiln {
namespace {

// The reference implementation refuses longer headers; so do we, which also stops a
// corrupt length from being trusted before it is checked against the file size.
constexpr uint64_t max_header_bytes = 100'000'000;

// Where one tensor's bytes lie in the data buffer, for the tiling check.
struct Extent {
  std::string_view name;
  int64_t begin, end;
};

// A non-negative integer member of an array, or an error naming the field.
int64_t natural(const JsonValue& value, std::string_view file, std::string_view name,
                std::string_view field) {
  if (value.kind != JsonValue::Kind::integer || value.integer < 0)
    fail("{}: tensor '{}' has {} entry {}, expected a non-negative integer", file,
         shown_name(name), field,
         value.kind == JsonValue::Kind::string ? json_quote(value.text)
         : value.kind == JsonValue::Kind::integer ? std::to_string(value.integer)
         : value.kind == JsonValue::Kind::number ? value.text
                                                 : std::string("(not a number)"));
  return value.integer;
}

const JsonValue& member(const JsonValue& entry, std::string_view key, JsonValue::Kind kind,
                        std::string_view file, std::string_view name) {
  const JsonValue* value = entry.find(key);
  if (!value) fail("{}: tensor '{}' has no \"{}\"", file, shown_name(name), key);
  if (value->kind != kind)
    fail("{}: tensor '{}' has a \"{}\" that is not {}", file, shown_name(name), key,
         kind == JsonValue::Kind::string ? "a string" : "an array");
  return *value;
}

// One header entry: checks it and fills `tensor` except its data; returns its extent.
Extent read_entry(const JsonValue& entry, std::string_view name, std::string_view file,
                  size_t buffer_size, Tensor& tensor) {
  if (entry.kind != JsonValue::Kind::object)
    fail("{}: tensor '{}' is described by something other than a JSON object", file,
         shown_name(name));
  for (const std::string& key : entry.keys)
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      fail("{}: tensor '{}' has unknown field {}", file, shown_name(name), json_quote(key));

  const std::string& dtype = member(entry, "dtype", JsonValue::Kind::string, file, name).text;
  std::optional<DType> known = dtype_from_name(dtype);
  if (!known)
    fail("{}: tensor '{}' has unsupported dtype {}", file, shown_name(name), json_quote(dtype));
  tensor.dtype = *known;

  int64_t bytes = static_cast<int64_t>(dtype_size(tensor.dtype));
  for (const JsonValue& extent : member(entry, "shape", JsonValue::Kind::array, file, name).items)
    tensor.shape.push_back(natural(extent, file, name, "shape"));
  for (int64_t extent : tensor.shape)
    if (__builtin_mul_overflow(bytes, extent, &bytes))
      fail("{}: tensor '{}' has shape [{}], too large to address", file, shown_name(name),
           fmt::join(tensor.shape, ", "));

  const JsonValue& offsets = member(entry, "data_offsets", JsonValue::Kind::array, file, name);
  if (offsets.items.size() != 2)
    fail("{}: tensor '{}' has {} data_offsets, expected 2 (begin, end)", file,
         shown_name(name), offsets.items.size());
  int64_t begin = natural(offsets.items[0], file, name, "data_offsets");
  int64_t end = natural(offsets.items[1], file, name, "data_offsets");
  if (begin > end)
    fail("{}: tensor '{}' has data_offsets [{}, {}] that end before they begin", file,
         shown_name(name), begin, end);
  if (static_cast<uint64_t>(end) > buffer_size)
    fail("{}: tensor '{}' has data_offsets [{}, {}] past the end of the {}-byte data buffer",
         file, shown_name(name), begin, end, buffer_size);
  if (end - begin != bytes)
    fail("{}: tensor '{}' has data_offsets [{}, {}] ({} bytes), but {} [{}] needs {}", file,
         shown_name(name), begin, end, end - begin, dtype, fmt::join(tensor.shape, ", "),
         bytes);
  return {name, begin, end};
}

Metadata read_metadata(const JsonValue& value, std::string_view file) {
  if (value.kind != JsonValue::Kind::object)
    fail("{}: \"__metadata__\" is not a JSON object", file);
  Metadata metadata;
  for (size_t i = 0; i < value.keys.size(); ++i) {
    if (value.items[i].kind != JsonValue::Kind::string)
      fail("{}: metadata {} is not a string", file, json_quote(value.keys[i]));
    metadata.emplace(value.keys[i], value.items[i].text);
  }
  return metadata;
}

// The tensors must tile the buffer exactly, as the reference implementation requires:
// an overlap would alias two tensors and a gap means the header and data disagree.
void check_tiling(std::vector<Extent> extents, size_t buffer_size, std::string_view file) {
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) {
    return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
  });
  int64_t covered = 0;
  for (size_t i = 0; i < extents.size(); ++i) {
    const Extent& extent = extents[i];
    if (extent.begin < covered)
      fail("{}: tensors '{}' and '{}' overlap: bytes [{}, {}) and [{}, {})", file,
           shown_name(extents[i - 1].name), shown_name(extent.name), extents[i - 1].begin,
           extents[i - 1].end, extent.begin, extent.end);
    if (extent.begin > covered)
      fail("{}: bytes [{}, {}) of the data buffer belong to no tensor", file, covered,
           extent.begin);
    covered = extent.end;
  }
  if (static_cast<uint64_t>(covered) != buffer_size)
    fail("{}: bytes [{}, {}) of the data buffer belong to no tensor", file, covered,
         buffer_size);
}

}  // namespace

SafetensorsFile parse_safetensors(std::string_view bytes, std::string_view file) {
  if (bytes.size() < 8)
    fail("{}: truncated: the file has {} bytes, too few for the 8-byte header length", file,
         bytes.size());
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  if (header_size > max_header_bytes)
    fail("{}: header length {} is over the {}-byte limit; is this a safetensors file?", file,
         header_size, max_header_bytes);
  if (header_size > bytes.size() - 8)
    fail("{}: truncated: header says {} bytes of JSON but the file has {}", file, header_size,
         bytes.size() - 8);
  std::string_view buffer = bytes.substr(8 + header_size);

  JsonValue header = parse_json(bytes.substr(8, header_size), fmt::format("{}: header", file));
  if (header.kind != JsonValue::Kind::object) fail("{}: header is not a JSON object", file);

  SafetensorsFile result;
  std::vector<Extent> extents;
  for (size_t i = 0; i < header.keys.size(); ++i) {
    const std::string& name = header.keys[i];
    if (name == "__metadata__") {
      result.metadata = read_metadata(header.items[i], file);
      continue;
    }
    // The parser already refused duplicate keys, so every name is new here.
    Tensor& tensor = result.tensors[name];
    extents.push_back(read_entry(header.items[i], name, file, buffer.size(), tensor));
  }
  check_tiling(extents, buffer.size(), file);
  for (const Extent& extent : extents)
    result.tensors[std::string(extent.name)].data.assign(
        buffer.substr(extent.begin, extent.end - extent.begin));
  return result;
}

SafetensorsFile load_safetensors(const std::string& path) {
  return parse_safetensors(read_file(path, "safetensors file"), path);
}

std::string serialize_safetensors(const TensorMap& tensors, const Metadata& metadata,
                                  std::string_view file) {
  // Compact JSON like the reference writer, "__metadata__" first, tensors in name order.
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [key, value] : metadata) {
      if (!is_valid_utf8(key) || !is_valid_utf8(value))
        fail("{}: cannot save: metadata {} is not valid UTF-8", file, json_quote(key));
      header += fmt::format("{}{}:{}", header.back() == '{' ? "" : ",", json_quote(key),
                            json_quote(value));
    }
    header += "}";
  }
  size_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__" || !is_valid_utf8(name))
      fail("{}: cannot save: tensor name '{}' is reserved or not valid UTF-8", file,
           shown_name(name));
    if (std::ranges::any_of(tensor.shape, [](int64_t extent) { return extent < 0; }) ||
        tensor.data.size() != static_cast<size_t>(tensor.elements()) * dtype_size(tensor.dtype))
      fail("{}: cannot save: tensor '{}' has {} bytes of data, which does not fit {} [{}]",
           file, shown_name(name), tensor.data.size(), dtype_name(tensor.dtype),
           fmt::join(tensor.shape, ", "));
    header += fmt::format("{}{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
                          header.size() == 1 ? "" : ",", json_quote(name),
                          dtype_name(tensor.dtype), fmt::join(tensor.shape, ","), offset,
                          offset + tensor.data.size());
    offset += tensor.data.size();
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // so the data buffer starts 8-aligned

  std::string bytes;
  bytes.reserve(8 + header.size() + offset);
  uint64_t header_size = header.size();
  bytes.append(reinterpret_cast<const char*>(&header_size), 8);
  bytes += header;
  for (const auto& [name, tensor] : tensors) bytes += tensor.data;
  return bytes;
}

void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const Metadata& metadata) {
  write_file_atomically(path, serialize_safetensors(tensors, metadata, path));
}

}  // namespace kiln
