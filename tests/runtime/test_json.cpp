#include <catch2/catch.hpp>

#include "runtime/json.hpp"
#include "support.hpp"

using kiln::JsonValue;
using kiln::parse_json;

TEST_CASE("json numbers: int64 integers stay exact, anything else keeps its text") {
  JsonValue array = parse_json("[0, -0, 9223372036854775807, -9223372036854775808, "
                               "9223372036854775808, 1.0, 2e3, -1E-2]", "t");
  REQUIRE(array.items.size() == 8);
  CHECK(array.items[2].kind == JsonValue::Kind::integer);
  CHECK(array.items[2].integer == INT64_MAX);
  CHECK(array.items[3].integer == INT64_MIN);
  for (size_t i : {4, 5, 6, 7}) CHECK(array.items[i].kind == JsonValue::Kind::number);
  CHECK(array.items[7].text == "-1E-2");
  for (const char* bad : {"01", "-", "1.", ".5", "1e", "+1", "0x10", "NaN"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_json(bad, "t"), kiln::Error);
  }
}

TEST_CASE("json strings: escapes decode, and json_quote writes what parse_json reads") {
  JsonValue value = parse_json(R"("a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\ud83d\ude00")", "t");
  CHECK(value.text == "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xf0\x9f\x98\x80");
  using namespace std::string_literals;  // for the NUL inside
  std::string awkward = "tab\t nul\0 quote\" back\\ \x7f \xc3\xa9"s;
  CHECK(kiln::json_quote(awkward) ==
        R"("tab\t nul\u0000 quote\" back\\ )" "\x7f \xc3\xa9\"");
  CHECK(parse_json(kiln::json_quote(awkward), "t").text == awkward);
}

TEST_CASE("json objects keep file order and refuse duplicate keys") {
  JsonValue object = parse_json(R"( {"z": 1, "a": [], "m": {}} )", "t");
  CHECK(object.keys == std::vector<std::string>{"z", "a", "m"});
  CHECK(object.find("a")->kind == JsonValue::Kind::array);
  CHECK(object.find("q") == nullptr);
  CHECK(kiln::test::error_from([] { parse_json(R"({"a": 1, "a": 2})", "src"); }) ==
        "src: invalid JSON at byte 9: duplicate key \"a\"");
}

TEST_CASE("is_valid_utf8 refuses overlong forms, surrogates and code points past U+10FFFF") {
  CHECK(kiln::is_valid_utf8("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
  for (const char* bad : {"\xc0\x80", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                          "\xf5\x80\x80\x80", "\x80", "\xc3", "\xe2\x82"}) {
    INFO(bad);
    CHECK_FALSE(kiln::is_valid_utf8(bad));
  }
}
