// Text corpora for character-level language models (issue 6): a file, or a folder of
// text files read in name order, split into training text and the last 5 % held out, over
// a byte vocabulary. The default corpus is the plain-text files of Debian's `fortunes`
// package: its .dat and .u8 files (indexes and UTF-8 copies) and the `art` and
// `ascii-art` pictures are skipped, leaving 41 files, 2,485,470 bytes, 114 distinct.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

inline constexpr const char* fortunes_folder = "/usr/share/games/fortunes";

// The distinct bytes of a text, in byte order; symbol k is the k-th of them.
class CharVocabulary {
 public:
  explicit CharVocabulary(std::string_view text);
  int size() const { return int(symbols_.size()); }
  char symbol(int k) const { return char(symbols_[std::size_t(k)]); }
  // The symbol of a byte, or -1 when the vocabulary lacks it.
  int index(char c) const { return index_[std::uint8_t(c)]; }
  // kiln::Error naming the first byte the vocabulary lacks (a priming text, say).
  std::vector<std::int32_t> encode(std::string_view text) const;
  std::string decode(const std::vector<std::int32_t>& symbols) const;

 private:
  std::vector<std::uint8_t> symbols_;
  std::array<int, 256> index_{};
};

struct CharCorpus {
  std::vector<std::string> files;  // what was read, in order
  std::string text;                // all of it, concatenated
  CharVocabulary vocabulary;
  std::vector<std::int32_t> train, held_out;  // encoded; held_out: the last 5 %
};

// `path`: a text file, or a folder whose text files are read in name order (the rule
// above). kiln::Error naming the path when it is missing, unreadable or holds no text.
CharCorpus load_char_corpus(const std::string& path);

}  // namespace kiln
