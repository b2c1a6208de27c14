// A small strict JSON reader, enough for safetensors headers: objects, arrays, strings
// (all escapes, UTF-8 checked) and numbers. true/false/null are rejected: no header we
// read has them. Numbers that are integers fitting int64 are kept as integers; any other
// number keeps its source text so callers can say what they got.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

struct JsonValue {
  enum class Kind { object, array, string, integer, number };
  Kind kind = Kind::object;
  int64_t integer = 0;           // kind == integer
  std::string text;              // kind == string: decoded; kind == number: source text
  std::vector<JsonValue> items;  // kind == array: elements; kind == object: values
  std::vector<std::string> keys; // kind == object: keys, in file order, no duplicates

  const JsonValue* find(std::string_view key) const;  // null when absent
};

// Parses `text` whole (surrounding whitespace allowed). Throws kiln::Error
// "<source>: invalid JSON at byte N: <problem>"; duplicate keys in an object are an error.
JsonValue parse_json(std::string_view text, std::string_view source);

// `text` as a JSON string literal, quotes included; `text` must be valid UTF-8.
std::string json_quote(std::string_view text);

bool is_valid_utf8(std::string_view text);

}  // namespace kiln
