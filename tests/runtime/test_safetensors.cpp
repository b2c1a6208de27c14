#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/safetensors.hpp"
#include "support.hpp"

using kiln::DType;
using kiln::Tensor;
using kiln::TensorMap;
using kiln::test::error_from;
using kiln::test::read_bytes;
using kiln::test::ScratchDir;
using kiln::test::write_bytes;

namespace {

// A file whose header is `json` (unpadded) followed by `data`.
std::string file_with(const std::string& json, const std::string& data = "") {
  uint64_t length = json.size();
  return std::string(reinterpret_cast<const char*>(&length), 8) + json + data;
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":" + offsets + "}";
}

}  // namespace

TEST_CASE("safetensors round trip keeps dtypes, shapes, bytes and metadata") {
  float nan = std::numeric_limits<float>::quiet_NaN();
  float inf = std::numeric_limits<float>::infinity();
  float payload_nan = std::bit_cast<float>(0xffc01234u);  // negative NaN with a payload
  std::vector<float> weights = {1.5f, -0.0f, nan, payload_nan, inf, -inf, 1e-45f, 3.4e38f};
  std::vector<int64_t> steps = {-1, 0, int64_t{1} << 40};
  std::vector<int32_t> labels = {7, -7, INT32_MAX, INT32_MIN};
  TensorMap tensors;
  tensors["weights"] = kiln::f32_tensor({2, 4}, weights);
  tensors["steps"] = kiln::i64_tensor({3}, steps);
  tensors["labels"] = kiln::i32_tensor({2, 2}, labels);
  tensors["scalar"] = kiln::f32_tensor({}, std::vector<float>{3.5f});
  tensors["empty"] = kiln::f32_tensor({0, 3}, {});
  tensors["half"] = Tensor{DType::BF16, {2}, std::string("\x80\x3f\x00\x40", 4)};
  tensors["mask"] = Tensor{DType::BOOL, {3}, std::string("\x01\x00\x01", 3)};
  tensors["layer.0/w \"q\" é"] = Tensor{DType::F64, {1}, std::string(8, '\x11')};
  kiln::Metadata metadata = {{"format", "pt"}, {"note", "quote \" slash \\ newline \n é"}};

  ScratchDir scratch;
  std::string path = scratch.path("round.safetensors");
  kiln::save_safetensors(path, tensors, metadata);
  kiln::SafetensorsFile loaded = kiln::load_safetensors(path);
  CHECK(loaded.tensors == tensors);
  CHECK(loaded.metadata == metadata);

  std::vector<float> floats = kiln::tensor_floats(loaded.tensors.at("weights"), "weights", path);
  REQUIRE(floats.size() == weights.size());
  CHECK(std::memcmp(floats.data(), weights.data(), weights.size() * sizeof(float)) == 0);
  CHECK(kiln::tensor_int32s(loaded.tensors.at("labels"), "labels", path) == labels);
  CHECK_THROWS_AS(kiln::tensor_int32s(loaded.tensors.at("steps"), "steps", path), kiln::Error);
}

TEST_CASE("tensor values convert from the wider types, checking int32 range") {
  Tensor doubles{DType::F64, {2}, {}};
  for (double value : {0.1, -2.0}) doubles.data.append(reinterpret_cast<char*>(&value), 8);
  CHECK(kiln::tensor_floats(doubles, "d", "f") == std::vector<float>{0.1f, -2.0f});
  std::vector<int64_t> small = {5, -5};
  CHECK(kiln::tensor_int32s(kiln::i64_tensor({2}, small), "i", "f") ==
        std::vector<int32_t>{5, -5});
  std::vector<int64_t> big = {1, int64_t{1} << 31};
  CHECK(error_from([&] { kiln::tensor_int32s(kiln::i64_tensor({2}, big), "i", "x.st"); }) ==
        "x.st: tensor 'i' holds 2147483648 at index 1, outside the int32 range");
  CHECK(error_from([&] { kiln::tensor_floats(kiln::i64_tensor({2}, small), "i", "x.st"); }) ==
        "x.st: tensor 'i' has dtype I64, expected F32 or F64");
}

TEST_CASE("saved bytes match the safetensors layout exactly") {
  TensorMap tensors;
  tensors["b"] = kiln::i32_tensor({1}, std::vector<int32_t>{7});
  tensors["a"] = kiln::f32_tensor({2}, std::vector<float>{1.0f, -2.0f});
  ScratchDir scratch;
  std::string path = scratch.path("exact.safetensors");
  kiln::save_safetensors(path, tensors, {{"format", "pt"}});

  // 139 bytes of JSON, padded with 5 spaces to 144 = 0x90; tensors in name order.
  std::string expected = std::string("\x90\0\0\0\0\0\0\0", 8) +
                         R"({"__metadata__":{"format":"pt"},)"
                         R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}})"
                         "     " +
                         std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8) +  // 1.0f, -2.0f
                         std::string("\x07\x00\x00\x00", 4);                  // 7
  CHECK(read_bytes(path) == expected);
  CHECK(read_bytes(path).size() == 8 + 144 + 12);

  kiln::save_safetensors(path, {});
  CHECK(read_bytes(path) == std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
}

TEST_CASE("loading accepts any key order and whitespace other writers use") {
  std::string json = "{\n  \"b\": {\"data_offsets\": [4, 8], \"shape\": [ ], \"dtype\": \"I32\"},\n"
                     "  \"__metadata__\": {\"k\": \"\\u00e9\\ud83d\\ude00\"},\n"
                     "  \"a\": {\"shape\": [1], \"dtype\": \"F32\", \"data_offsets\": [0, 4]}\n}\n";
  kiln::SafetensorsFile file =
      kiln::parse_safetensors(file_with(json, std::string("\0\0\x80\x3f\x02\0\0\0", 8)), "w");
  CHECK(kiln::tensor_floats(file.tensors.at("a"), "a", "w") == std::vector<float>{1.0f});
  CHECK(file.tensors.at("b").shape.empty());
  CHECK(kiln::tensor_int32s(file.tensors.at("b"), "b", "w") == std::vector<int32_t>{2});
  CHECK(file.metadata.at("k") == "\xc3\xa9\xf0\x9f\x98\x80");
}

TEST_CASE("malformed files give one-line errors naming the file") {
  std::string f4 = entry("a", "F32", "[1]", "[0,4]");
  struct Case {
    const char* what;
    std::string bytes;
    const char* expected;  // a fragment of the message
  };
  uint64_t huge = ~uint64_t{0};
  std::vector<Case> cases = {
      {"empty file", "", "truncated: the file has 0 bytes"},
      {"shorter than 8 bytes", "abc", "truncated: the file has 3 bytes"},
      {"header past the end", file_with(std::string(120, ' ')).substr(0, 48),
       "truncated: header says 120 bytes of JSON but the file has 40"},
      {"absurd header length", std::string(reinterpret_cast<char*>(&huge), 8) + "{}",
       "is over the 100000000-byte limit"},
      {"empty header", file_with(""), "invalid JSON at byte 0"},
      {"unclosed object", file_with("{" + f4, std::string(4, 0)), "expected '}'"},
      {"trailing comma", file_with("{" + f4 + ",}", std::string(4, 0)), "expected a string key"},
      {"bad escape", file_with(R"({"a\q":1})"), "unknown escape"},
      {"lone surrogate", file_with(R"({"\ud800":1})"), "unpaired high surrogate"},
      {"invalid UTF-8", file_with("{\"\xff\":1}"), "invalid UTF-8"},
      {"control character", file_with("{\"a\nb\":1}"), "control character 0x0a"},
      {"literal true", file_with(R"({"a":true})"), "expected a value"},
      {"text after the object", file_with("{}x"), "unexpected text after the value"},
      {"deep nesting", file_with(std::string(100000, '[')), "nested deeper than 64"},
      {"header is an array", file_with("[1]"), "header is not a JSON object"},
      {"entry is not an object", file_with(R"({"a":[]})"), "described by something other"},
      {"unknown dtype", file_with("{" + entry("a", "F8_E4M3", "[1]", "[0,1]") + "}", "x"),
       "unsupported dtype \"F8_E4M3\""},
      {"missing dtype", file_with(R"({"a":{"shape":[],"data_offsets":[0,0]}})"),
       "tensor 'a' has no \"dtype\""},
      {"unknown field", file_with(R"({"a":{"dtype":"U8","shape":[],"data_offsets":[0,1],"x":1}})"),
       "unknown field \"x\""},
      {"negative shape", file_with("{" + entry("a", "F32", "[-1]", "[0,0]") + "}"),
       "shape entry -1, expected a non-negative integer"},
      {"fractional shape", file_with("{" + entry("a", "F32", "[1.5]", "[0,0]") + "}"),
       "shape entry 1.5"},
      {"string shape", file_with("{" + entry("a", "F32", "[\"2\"]", "[0,0]") + "}"),
       "shape entry \"2\""},
      {"shape not an array", file_with("{" + entry("a", "F32", "4", "[0,16]") + "}"),
       "\"shape\" that is not an array"},
      {"huge shape", file_with("{" + entry("a", "F32", "[4294967296,4294967296]", "[0,0]") + "}"),
       "too large to address"},
      {"one offset", file_with("{" + entry("a", "F32", "[1]", "[0]") + "}"), "expected 2"},
      {"offsets reversed", file_with("{" + entry("a", "F32", "[0]", "[4,0]") + "}", "xxxx"),
       "end before they begin"},
      {"offsets past the data", file_with("{" + f4 + "}", "xx"), "past the end of the 2-byte"},
      {"offsets too big for int64", file_with("{" + entry("a", "F32", "[1]", "[0,1e30]") + "}"),
       "data_offsets entry 1e30"},
      {"size mismatch", file_with("{" + entry("a", "F32", "[1]", "[0,8]") + "}", "12345678"),
       "(8 bytes), but F32 [1] needs 4"},
      {"overlap",
       file_with("{" + f4 + "," + entry("b", "F32", "[1]", "[2,6]") + "}", std::string(6, 0)),
       "tensors 'a' and 'b' overlap"},
      {"gap",
       file_with("{" + f4 + "," + entry("b", "F32", "[1]", "[8,12]") + "}", std::string(12, 0)),
       "bytes [4, 8) of the data buffer belong to no tensor"},
      {"trailing bytes", file_with("{" + f4 + "}", std::string(6, 0)),
       "bytes [4, 6) of the data buffer belong to no tensor"},
      {"duplicate names", file_with("{" + f4 + "," + f4 + "}", std::string(4, 0)),
       "duplicate key \"a\""},
      {"metadata not strings", file_with(R"({"__metadata__":{"k":1}})"),
       "metadata \"k\" is not a string"},
  };
  ScratchDir scratch;
  std::string path = scratch.path("bad.safetensors");
  for (const Case& c : cases) {
    INFO(c.what);
    write_bytes(path, c.bytes);
    std::string message = error_from([&] { kiln::load_safetensors(path); });
    CHECK(message.starts_with(path + ": "));
    CHECK_THAT(message, Catch::Contains(c.expected));
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("every truncation or corrupted byte of a valid file is caught, never a crash") {
  TensorMap tensors;
  tensors["w"] = kiln::f32_tensor({2, 2}, std::vector<float>{1, 2, 3, 4});
  tensors["n"] = kiln::i64_tensor({1}, std::vector<int64_t>{9});
  std::string good = kiln::serialize_safetensors(tensors, {{"k", "v"}}, "good");
  for (size_t size = 0; size < good.size(); ++size) {
    INFO("truncated to " << size);
    CHECK_THROWS_AS(kiln::parse_safetensors(good.substr(0, size), "t"), kiln::Error);
  }
  for (size_t at = 0; at < good.size(); ++at) {
    for (unsigned char value : {0x00, 0x01, 0x22, 0x2c, 0x30, 0x5b, 0x7b, 0x7d, 0x80, 0xff}) {
      std::string corrupt = good;
      corrupt[at] = static_cast<char>(value);
      try {
        kiln::parse_safetensors(corrupt, "c");  // may still be valid, e.g. a changed value
      } catch (const kiln::Error&) {
      }
    }
  }
}

TEST_CASE("lookups fail with messages naming the file and tensor") {
  TensorMap tensors;
  tensors["fc1.weight"] = kiln::f32_tensor({2, 3}, std::vector<float>(6));
  std::vector<int64_t> expected = {3, 2};
  CHECK(&kiln::require(tensors, "fc1.weight", "m.st") == &tensors.at("fc1.weight"));
  CHECK(error_from([&] { kiln::require(tensors, "fc2.weight", "m.st"); }) ==
        "m.st: missing tensor 'fc2.weight'");
  CHECK(error_from([&] { kiln::require_shape(tensors["fc1.weight"], expected, "fc1.weight",
                                             "m.st"); }) ==
        "m.st: tensor 'fc1.weight' has shape [2, 3], expected [3, 2]");
  CHECK(error_from([&] { kiln::require_dtype(tensors["fc1.weight"], DType::I64, "fc1.weight",
                                             "m.st"); }) ==
        "m.st: tensor 'fc1.weight' has dtype F32, expected I64");
  kiln::require_shape(tensors["fc1.weight"], std::vector<int64_t>{2, 3}, "fc1.weight", "m.st");
  kiln::require_dtype(tensors["fc1.weight"], DType::F32, "fc1.weight", "m.st");
}

TEST_CASE("saving refuses tensors that cannot be written, leaving the old file") {
  ScratchDir scratch;
  std::string path = scratch.path("keep.safetensors");
  write_bytes(path, "old");
  TensorMap bad;
  bad["w"] = Tensor{DType::F32, {2}, std::string(4, 0)};
  CHECK(error_from([&] { kiln::save_safetensors(path, bad); }) ==
        path + ": cannot save: tensor 'w' has 4 bytes of data, which does not fit F32 [2]");
  TensorMap reserved;
  reserved["__metadata__"] = kiln::f32_tensor({}, std::vector<float>{1});
  CHECK_THROWS_AS(kiln::save_safetensors(path, reserved), kiln::Error);
  CHECK(read_bytes(path) == "old");
  CHECK(scratch.listing() == std::vector<std::string>{"keep.safetensors"});
}
