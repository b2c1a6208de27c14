// kiln::Error: a user-facing failure. Its message is one line that names the thing
// (a file, a flag, a tensor) and the problem; the CLI prints it and exits non-zero.
#pragma once
#include <fmt/format.h>

#include <stdexcept>
#include <utility>

namespace kiln {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace kiln
