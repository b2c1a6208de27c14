// kiln train / eval / sample on a character-level language model (char-rnn), on a small
// text written here, and the bad inputs of text training: an empty or binary file, more
// distinct characters than the model has classes, a prime outside the vocabulary, token
// ids outside the vocabulary.
#include "cli/support.hpp"

#include <catch2/catch.hpp>

#include <cmath>

namespace {
using namespace kiln::test;

// 45 characters over 28 symbols, repeated: a text a small model learns within seconds.
std::string pangrams(int copies) {
  std::string text;
  for (int k = 0; k < copies; ++k) text += "the quick brown fox jumps over the lazy dog. ";
  return text;
}

// The number after "held-out: " in kiln's last line.
double held_out_bits(const std::string& out) {
  const std::size_t at = out.rfind("held-out: ");
  REQUIRE(at != std::string::npos);
  return std::stod(out.substr(at + 10));
}

}  // namespace

TEST_CASE("kiln train char-rnn learns a small text; eval and sample read its weights", "[cli][text]") {
  ScratchDir dir;
  const std::string text = dir.path("pangrams.txt"), weights = dir.path("char_rnn.safetensors");
  write_bytes(text, pangrams(400));
  const KilnRun trained = expect_success({"train", "char-rnn", "--text", text, "--epochs", "3", "--batch", "8",
                                          "--lr", "0.01", "--out", weights});
  // Uniform over 28 symbols is 4.8 bits; the text is fully predictable after a few
  // characters, so a trained model is far below it.
  const double bits = held_out_bits(trained.out);
  INFO(trained.out);
  CHECK(bits < 1.5);
  const KilnRun evaluated = expect_success({"eval", "char-rnn", "--weights", weights, "--text", text});
  CHECK(std::abs(held_out_bits(evaluated.out) - bits) < 1e-3);

  const KilnRun sampled = expect_success({"sample", "char-rnn", "--weights", weights, "--prime", "the quick",
                                          "--length", "60", "--temperature", "0.5"});
  const std::string line = sampled.out.substr(0, sampled.out.find('\n'));
  REQUIRE(line.size() == 9 + 60);
  CHECK(line.rfind("the quick", 0) == 0);
  for (char c : line) CHECK(std::string(" .abcdefghijklmnopqrstuvwxyz").find(c) != std::string::npos);
  // The text is so regular that the sample repeats it.
  CHECK(contains(line, "the lazy dog"));

  expect_failure(dir, {"sample", "char-rnn", "--weights", weights, "--prime", "THE"},
                 {"--prime", "0x54", "vocabulary"});
  expect_failure(dir, {"sample", "char-rnn", "--weights", weights, "--prime", "the", "--temperature", "0"},
                 {"--temperature"});
}

TEST_CASE("kiln train on text: bad text files are one-line errors", "[cli][text]") {
  ScratchDir dir;
  const std::string out = dir.path("out.safetensors");
  const std::string empty = dir.path("empty.txt"), binary = dir.path("binary.bin"), wide = dir.path("wide.txt");
  write_bytes(empty, "");
  write_bytes(binary, std::string("some text\0\x01\x02 and more text after it", 36));
  std::string many;
  for (int b = 1; b < 256; ++b) many.push_back(char(b));
  write_bytes(wide, many + many);
  expect_failure(dir, {"train", "char-rnn", "--text", empty, "--out", out}, {empty, "too few"}, out);
  expect_failure(dir, {"train", "char-rnn", "--text", binary, "--out", out}, {binary, "NUL"}, out);
  expect_failure(dir, {"train", "char-rnn", "--text", wide, "--out", out}, {"255 distinct", "char_rnn", "128"}, out);
  expect_failure(dir, {"train", "char-rnn", "--text", dir.path("missing.txt"), "--out", out}, {"missing.txt"}, out);
}
