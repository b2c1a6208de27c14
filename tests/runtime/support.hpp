// Helpers shared by the runtime tests: scratch directories, raw file access, and the
// message of an expected kiln::Error.
#pragma once
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "runtime/error.hpp"

namespace kiln::test {

// A fresh directory under the system temp dir for one test, removed with everything in it
// when the test ends.
class ScratchDir {
 public:
  ScratchDir() {
    static int made = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("kiln-test-" + std::to_string(::getpid()) + "-" + std::to_string(made++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // The names of everything in the directory, sorted.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::filesystem::path dir_;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The message of the kiln::Error that `action` throws; fails the test if it throws none.
template <class Action>
std::string error_from(Action action) {
  try {
    action();
  } catch (const kiln::Error& error) {
    return error.what();
  }
  FAIL("expected a kiln::Error");
  return "";
}

}  // namespace kiln::test
