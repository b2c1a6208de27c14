#include "runtime/json.hpp"

#include <fmt/format.h>

#include <charconv>
#include <set>

#include "runtime/error.hpp"

namespace kiln {
namespace {

// Deep enough for any header (which nests three levels); shallow enough that a hostile
// "[[[[..." cannot exhaust the stack.
constexpr int max_depth = 64;

// Length of the UTF-8 sequence starting at text[at], or 0 when it is not a valid one
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t utf8_sequence_length(std::string_view text, size_t at) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  if (lead < 0x80) return 1;
  size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || at + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i)
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
  unsigned char second = byte(at + 1);
  if (lead == 0xE0 && second < 0xA0) return 0;  // overlong
  if (lead == 0xED && second >= 0xA0) return 0; // UTF-16 surrogate
  if (lead == 0xF0 && second < 0x90) return 0;  // overlong
  if (lead == 0xF4 && second >= 0x90) return 0; // past U+10FFFF
  return length;
}

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

JsonValue make(JsonValue::Kind kind, std::string text = {}) {
  JsonValue value;
  value.kind = kind;
  value.text = std::move(text);
  return value;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  JsonValue parse_document() {
    skip_whitespace();
    JsonValue value = parse_value(0);
    skip_whitespace();
    if (at_ < text_.size()) error("unexpected text after the value");
    return value;
  }

 private:
  template <class... Args>
  [[noreturn]] void error(fmt::format_string<Args...> format, Args&&... args) {
    fail("{}: invalid JSON at byte {}: {}", source_, at_,
         fmt::format(format, std::forward<Args>(args)...));
  }

  bool done() const { return at_ >= text_.size(); }
  char peek() const { return text_[at_]; }

  void skip_whitespace() {
    while (!done() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
      ++at_;
  }

  void expect(char wanted) {
    if (done()) error("expected '{}' but the text ended", wanted);
    if (peek() != wanted) error("expected '{}'", wanted);
    ++at_;
  }

  JsonValue parse_value(int depth) {
    if (depth > max_depth) error("nested deeper than {} levels", max_depth);
    if (done()) error("expected a value but the text ended");
    char c = peek();
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') return make(JsonValue::Kind::string, parse_string());
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    error("expected a value");
  }

  JsonValue parse_object(int depth) {
    JsonValue object = make(JsonValue::Kind::object);
    expect('{');
    skip_whitespace();
    if (!done() && peek() == '}') return ++at_, object;
    std::set<std::string, std::less<>> seen;  // a header can have thousands of keys
    for (;;) {
      skip_whitespace();
      size_t key_at = at_;
      if (done() || peek() != '"') error("expected a string key");
      std::string key = parse_string();
      if (!seen.insert(key).second) at_ = key_at, error("duplicate key {}", json_quote(key));
      skip_whitespace();
      expect(':');
      skip_whitespace();
      object.items.push_back(parse_value(depth + 1));
      object.keys.push_back(std::move(key));
      skip_whitespace();
      if (!done() && peek() == ',') { ++at_; continue; }
      expect('}');
      return object;
    }
  }

  JsonValue parse_array(int depth) {
    JsonValue array = make(JsonValue::Kind::array);
    expect('[');
    skip_whitespace();
    if (!done() && peek() == ']') return ++at_, array;
    for (;;) {
      skip_whitespace();
      array.items.push_back(parse_value(depth + 1));
      skip_whitespace();
      if (!done() && peek() == ',') { ++at_; continue; }
      expect(']');
      return array;
    }
  }

  uint32_t parse_hex4() {
    if (text_.size() - at_ < 4) error("\\u needs four hex digits");
    uint32_t code = 0;
    auto [end, problem] = std::from_chars(text_.data() + at_, text_.data() + at_ + 4, code, 16);
    if (problem != std::errc() || end != text_.data() + at_ + 4) error("\\u needs four hex digits");
    at_ += 4;
    return code;
  }

  std::string parse_string() {
    std::string out;
    ++at_;  // the opening quote
    for (;;) {
      if (done()) error("unterminated string");
      unsigned char c = static_cast<unsigned char>(peek());
      if (c == '"') { ++at_; return out; }
      if (c < 0x20) error("control character 0x{:02x} inside a string", c);
      if (c >= 0x80) {
        size_t length = utf8_sequence_length(text_, at_);
        if (length == 0) error("invalid UTF-8 inside a string");
        out.append(text_.substr(at_, length));
        at_ += length;
        continue;
      }
      ++at_;
      if (c != '\\') { out += static_cast<char>(c); continue; }
      if (done()) error("unterminated string");
      char escape = text_[at_++];
      switch (escape) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(out, parse_code_point()); break;
        default: --at_, error("unknown escape '\\{}'", escape);
      }
    }
  }

  // After "\u": one code point, joining a UTF-16 surrogate pair written as two escapes.
  uint32_t parse_code_point() {
    uint32_t code = parse_hex4();
    if (code >= 0xDC00 && code <= 0xDFFF) error("unpaired low surrogate \\u{:04x}", code);
    if (code < 0xD800 || code > 0xDBFF) return code;
    if (text_.substr(at_, 2) != "\\u") error("unpaired high surrogate \\u{:04x}", code);
    at_ += 2;
    uint32_t low = parse_hex4();
    if (low < 0xDC00 || low > 0xDFFF) error("unpaired high surrogate \\u{:04x}", code);
    return 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
  }

  // JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  JsonValue parse_number() {
    size_t start = at_;
    auto digits = [&] {
      size_t from = at_;
      while (!done() && peek() >= '0' && peek() <= '9') ++at_;
      return at_ - from;
    };
    if (peek() == '-') ++at_;
    if (!done() && peek() == '0') {
      ++at_;
    } else if (digits() == 0) {
      error("expected digits");
    }
    bool integral = true;
    if (!done() && peek() == '.') {
      ++at_, integral = false;
      if (digits() == 0) error("expected digits after '.'");
    }
    if (!done() && (peek() == 'e' || peek() == 'E')) {
      ++at_, integral = false;
      if (!done() && (peek() == '+' || peek() == '-')) ++at_;
      if (digits() == 0) error("expected digits in the exponent");
    }
    std::string_view source = text_.substr(start, at_ - start);
    JsonValue number = make(JsonValue::Kind::number, std::string(source));
    int64_t value = 0;
    auto [end, problem] = std::from_chars(source.data(), source.data() + source.size(), value);
    if (integral && problem == std::errc() && end == source.data() + source.size())
      number.kind = JsonValue::Kind::integer, number.integer = value;
    return number;
  }

  std::string_view text_;
  std::string_view source_;
  size_t at_ = 0;
};

}  // namespace

const JsonValue* JsonValue::find(std::string_view key) const {
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return &items[i];
  return nullptr;
}

JsonValue parse_json(std::string_view text, std::string_view source) {
  return Parser(text, source).parse_document();
}

std::string json_quote(std::string_view text) {
  // Short escapes where JSON has them, \u00XX for other control bytes: what serde_json
  // and Python's json write, so headers from either side come out byte-identical.
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        else
          out += c;  // UTF-8 passes through: JSON text is UTF-8
    }
  }
  return out + '"';
}

bool is_valid_utf8(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    size_t length = utf8_sequence_length(text, at);
    if (length == 0) return false;
    at += length;
  }
  return true;
}

}  // namespace kiln
