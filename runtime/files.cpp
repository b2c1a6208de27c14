#include "runtime/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "runtime/error.hpp"

namespace kiln {
namespace {

// strerror's text, lower-cased to fit our one-line messages ("no such file or
// directory"); ENOENT is shortened because "directory" misleads when a file is missing.
std::string describe(int error) {
  if (error == ENOENT) return "no such file";
  std::string text = std::strerror(error);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// Closes a descriptor on every path out of a function.
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
  // close(2) can report a failed delayed write, so the writer closes explicitly.
  int close() {
    int result = ::close(fd);
    fd = -1;
    return result;
  }
};

}  // namespace

std::string read_file(const std::string& path, std::string_view what) {
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) fail("{}: cannot read {}: {}", path, what, describe(errno));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) fail("{}: cannot read {}: {}", path, what, describe(errno));
  if (S_ISDIR(info.st_mode)) fail("{}: cannot read {}: is a directory", path, what);

  // Size the string once from fstat so a large file costs its size and no more; keep
  // reading past that in case the file is not regular (a pipe) or grew meanwhile.
  std::string bytes(S_ISREG(info.st_mode) ? static_cast<size_t>(info.st_size) : 0, '\0');
  size_t filled = 0;
  char spill[65536];
  for (;;) {
    bool full = filled == bytes.size();
    char* into = full ? spill : bytes.data() + filled;
    size_t room = full ? sizeof spill : bytes.size() - filled;
    ssize_t got = ::read(file.fd, into, room);
    if (got < 0) {
      if (errno == EINTR) continue;
      fail("{}: cannot read {}: {}", path, what, describe(errno));
    }
    if (got == 0) break;
    if (full) bytes.append(spill, static_cast<size_t>(got));
    filled += static_cast<size_t>(got);
  }
  bytes.resize(filled);
  return bytes;
}

void check_writable(const std::string& path) {
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (directory.empty()) directory = ".";
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))
    fail("{}: cannot save: no such directory {}", path, directory.string());
  if (::access(directory.c_str(), W_OK) != 0)
    fail("{}: cannot save: directory {} is not writable", path, directory.string());
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode))
    fail("{}: cannot save: is a directory", path);
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  auto give_up = [&](std::string_view step, int error) {
    ::unlink(temp.c_str());
    fail("{}: cannot save: {} failed: {}", path, step, describe(error));
  };

  FileDescriptor file{::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)};
  if (file.fd < 0) fail("{}: cannot save: cannot create {}: {}", path, temp, describe(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t put = ::write(file.fd, bytes.data() + written, bytes.size() - written);
    if (put < 0) {
      if (errno == EINTR) continue;
      give_up("write", errno);
    }
    written += static_cast<size_t>(put);
  }
  if (::fsync(file.fd) != 0) give_up("fsync", errno);
  if (file.close() != 0) give_up("close", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) give_up("rename", errno);

  // Make the rename itself durable. The new file is already in place, so a failure here
  // (some filesystems refuse fsync on directories) is not worth failing the save over.
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (directory.empty()) directory = ".";
  FileDescriptor dir{::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd >= 0) ::fsync(dir.fd);
}

}  // namespace kiln
