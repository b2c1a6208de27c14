#include "runtime/text.hpp"

#include "runtime/error.hpp"
#include "runtime/files.hpp"

#include <algorithm>
#include <filesystem>

namespace kiln {
namespace fs = std::filesystem;

CharVocabulary::CharVocabulary(std::string_view text) {
  std::array<bool, 256> seen{};
  for (char c : text) seen[std::uint8_t(c)] = true;
  index_.fill(-1);
  for (int b = 0; b < 256; ++b)
    if (seen[std::size_t(b)]) {
      index_[std::size_t(b)] = int(symbols_.size());
      symbols_.push_back(std::uint8_t(b));
    }
}

std::vector<std::int32_t> CharVocabulary::encode(std::string_view text) const {
  std::vector<std::int32_t> out;
  out.reserve(text.size());
  for (std::size_t k = 0; k < text.size(); ++k) {
    const int s = index(text[k]);
    if (s < 0) fail("text: byte 0x{:02x} at offset {} is not in the corpus's vocabulary", std::uint8_t(text[k]), k);
    out.push_back(s);
  }
  return out;
}

std::string CharVocabulary::decode(const std::vector<std::int32_t>& symbols) const {
  std::string out;
  out.reserve(symbols.size());
  for (std::int32_t s : symbols) out.push_back(symbol(s));
  return out;
}

namespace {
// A folder's text files: regular files, not indexes (.dat), not UTF-8 copies (.u8),
// not the picture collections; in name order.
std::vector<std::string> text_files(const fs::path& folder) {
  std::vector<std::string> files;
  for (const fs::directory_entry& e : fs::directory_iterator(folder)) {
    const std::string name = e.path().filename().string();
    const std::string ext = e.path().extension().string();
    if (!e.is_regular_file() || ext == ".dat" || ext == ".u8" || name == "art" || name == "ascii-art") continue;
    files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}
}  // namespace

CharCorpus load_char_corpus(const std::string& path) {
  std::error_code ec;
  const bool folder = fs::is_directory(path, ec);
  if (!folder && !fs::exists(path, ec)) fail("{}: no such text file or folder", path);
  std::vector<std::string> files = folder ? text_files(path) : std::vector<std::string>{path};
  std::string text;
  for (const std::string& f : files) text += read_file(f, "text file");
  // At least one byte to hold out (5 %) and more to train on.
  if (text.size() < 20) fail("{}: {} bytes of text, too few to train on", path, text.size());
  if (const std::size_t zero = text.find('\0'); zero != std::string::npos)
    fail("{}: not text: a NUL byte at offset {}", path, zero);
  CharVocabulary vocabulary(text);
  const std::size_t held = text.size() / 20;
  const std::string_view all(text);
  std::vector<std::int32_t> train = vocabulary.encode(all.substr(0, text.size() - held));
  std::vector<std::int32_t> held_out = vocabulary.encode(all.substr(text.size() - held));
  return {std::move(files), std::move(text), std::move(vocabulary), std::move(train), std::move(held_out)};
}

}  // namespace kiln
