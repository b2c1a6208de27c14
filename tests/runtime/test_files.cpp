#include <catch2/catch.hpp>

#include <fstream>

#include "runtime/files.hpp"
#include "support.hpp"

using kiln::test::error_from;
using kiln::test::read_bytes;
using kiln::test::ScratchDir;
using kiln::test::write_bytes;

TEST_CASE("read_file returns every byte, zeros included") {
  ScratchDir scratch;
  std::string bytes("a\0b\xff\n", 5);
  write_bytes(scratch.path("data.bin"), bytes);
  CHECK(kiln::read_file(scratch.path("data.bin"), "data") == bytes);
  write_bytes(scratch.path("empty.bin"), "");
  CHECK(kiln::read_file(scratch.path("empty.bin"), "data").empty());
}

TEST_CASE("read_file names the file and the problem") {
  ScratchDir scratch;
  std::string missing = scratch.path("weights.safetensors");
  CHECK(error_from([&] { kiln::read_file(missing, "weights"); }) ==
        missing + ": cannot read weights: no such file");
  CHECK(error_from([&] { kiln::read_file(scratch.path(""), "weights"); }) ==
        scratch.path("") + ": cannot read weights: is a directory");
}

TEST_CASE("write_file_atomically creates and replaces files, leaving no temp files") {
  ScratchDir scratch;
  std::string path = scratch.path("model.safetensors");
  kiln::write_file_atomically(path, "first");
  CHECK(read_bytes(path) == "first");

  // A reader holding the old file keeps seeing all of it: the new bytes went to a new
  // inode that was renamed into place, not written over the old one.
  std::ifstream old_reader(path, std::ios::binary);
  kiln::write_file_atomically(path, std::string("second\0", 7));
  std::string old_contents((std::istreambuf_iterator<char>(old_reader)),
                           std::istreambuf_iterator<char>());
  CHECK(old_contents == "first");
  CHECK(read_bytes(path) == std::string("second\0", 7));
  CHECK(scratch.listing() == std::vector<std::string>{"model.safetensors"});
}

TEST_CASE("write_file_atomically fails cleanly and names the path") {
  ScratchDir scratch;
  SECTION("the directory does not exist") {
    std::string path = scratch.path("no/such/dir/out.bin");
    std::string message = error_from([&] { kiln::write_file_atomically(path, "x"); });
    CHECK(message.starts_with(path + ": cannot save"));
    CHECK(message.find("no such file") != std::string::npos);
  }
  SECTION("the path is a directory: the rename fails and the temp file is removed") {
    std::filesystem::create_directory(scratch.path("taken"));
    std::string message =
        error_from([&] { kiln::write_file_atomically(scratch.path("taken"), "x"); });
    CHECK(message.starts_with(scratch.path("taken") + ": cannot save: rename failed"));
    CHECK(scratch.listing() == std::vector<std::string>{"taken"});
    CHECK(std::filesystem::is_empty(scratch.path("taken")));
  }
}
