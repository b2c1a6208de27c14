// Whole-file reads and crash-safe whole-file writes. Every failure is a kiln::Error whose
// one-line message starts with the path.
#pragma once
#include <string>
#include <string_view>

namespace kiln {

// The file's bytes. `what` says what the file is for (e.g. "safetensors file") so the
// message reads "weights.safetensors: cannot read safetensors file: no such file".
std::string read_file(const std::string& path, std::string_view what);

// Replaces `path` with `bytes` so that a crash at any moment leaves either the old file
// or the new one, never a partial one: writes "<path>.tmp.<pid>" in the same directory,
// fsyncs it, renames it over `path`, then fsyncs the directory. On failure the temp file
// is removed and `path` is untouched.
void write_file_atomically(const std::string& path, std::string_view bytes);

// Fails now, with the message write_file_atomically would give later, when path cannot be
// saved: its directory is missing or not writable, or path is a directory. For commands
// that work a long time before they save.
void check_writable(const std::string& path);

}  // namespace kiln
