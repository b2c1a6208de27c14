// Character corpora (runtime/text.hpp): which files a folder contributes and in what
// order, the 95 / 5 split, the byte vocabulary, and the one-line errors.
#include "runtime/text.hpp"

#include "runtime/support.hpp"

#include <filesystem>

using namespace kiln;
using namespace kiln::test;

TEST_CASE("text: a folder's text files are read in name order, indexes, UTF-8 copies and pictures skipped") {
  ScratchDir dir;
  const std::string folder = dir.path("fortunes");
  std::filesystem::create_directories(folder + "/sub");
  write_bytes(folder + "/zippy", "zzzzzzzzzz\n");
  write_bytes(folder + "/cookie", "ccccccccccccccccccc\n");
  write_bytes(folder + "/cookie.dat", "INDEX");
  write_bytes(folder + "/cookie.u8", "UTF8 COPY");
  write_bytes(folder + "/art", "ART");
  write_bytes(folder + "/ascii-art", "ASCII ART");
  write_bytes(folder + "/sub/nested", "NESTED");  // folders are not read
  const CharCorpus c = load_char_corpus(folder);
  REQUIRE(c.files.size() == 2);
  CHECK(c.files[0] == folder + "/cookie");
  CHECK(c.files[1] == folder + "/zippy");
  CHECK(c.text == "ccccccccccccccccccc\nzzzzzzzzzz\n");
  // 31 bytes: 31 / 20 = 1 held out (the final newline), 30 to train on.
  CHECK(c.held_out.size() == 1);
  CHECK(c.train.size() == 30);
  // Vocabulary in byte order: '\n' (10), 'c' (99), 'z' (122).
  REQUIRE(c.vocabulary.size() == 3);
  CHECK(c.vocabulary.symbol(0) == '\n');
  CHECK(c.vocabulary.symbol(1) == 'c');
  CHECK(c.vocabulary.symbol(2) == 'z');
  CHECK(c.held_out[0] == 0);
  CHECK(c.train.front() == 1);
  CHECK(c.train.back() == 2);
  CHECK(c.vocabulary.decode(c.train) + c.vocabulary.decode(c.held_out) == c.text);
}

TEST_CASE("text: one file; the split is the last 5 % of its bytes") {
  ScratchDir dir;
  std::string text;
  for (int k = 0; k < 1000; ++k) text.push_back(char('a' + k % 26));
  write_bytes(dir.path("t.txt"), text);
  const CharCorpus c = load_char_corpus(dir.path("t.txt"));
  CHECK(c.train.size() == 950);
  CHECK(c.held_out.size() == 50);
  CHECK(c.vocabulary.size() == 26);
  CHECK(c.vocabulary.decode(c.held_out) == text.substr(950));
  CHECK(c.vocabulary.encode("cab") == std::vector<std::int32_t>{2, 0, 1});
  CHECK(error_from([&] { (void)c.vocabulary.encode("ab!"); }) ==
        "text: byte 0x21 at offset 2 is not in the corpus's vocabulary");
}

TEST_CASE("text: a missing path, a folder without text, too little text: one-line errors") {
  ScratchDir dir;
  CHECK(error_from([&] { load_char_corpus(dir.path("nothing")); }) ==
        dir.path("nothing") + ": no such text file or folder");
  std::filesystem::create_directories(dir.path("empty"));
  write_bytes(dir.path("empty/x.dat"), "INDEX ONLY");
  CHECK(error_from([&] { load_char_corpus(dir.path("empty")); }) ==
        dir.path("empty") + ": 0 bytes of text, too few to train on");
  write_bytes(dir.path("short.txt"), "tiny");
  CHECK(error_from([&] { load_char_corpus(dir.path("short.txt")); }) ==
        dir.path("short.txt") + ": 4 bytes of text, too few to train on");
}

// Debian's fortunes package, as issue 6 calibrates on it: 41 files, 2,485,470 bytes, 114
// distinct. CI installs it (tools/install-deps.sh).
TEST_CASE("text: the fortunes corpus has the calibrated size") {
  const CharCorpus c = load_char_corpus(fortunes_folder);
  CHECK(c.files.size() == 41);
  CHECK(c.text.size() == 2485470);
  CHECK(c.vocabulary.size() == 114);
  CHECK(c.held_out.size() == 2485470 / 20);
}
