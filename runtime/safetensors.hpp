// Tensors in the safetensors format (https://github.com/huggingface/safetensors):
//   8 bytes   N, the header length, little-endian uint64
//   N bytes   JSON: {"__metadata__": {"k": "v"},
//                    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
//             padded with spaces to a multiple of 8
//   the rest  the data buffer; a tensor's bytes are [begin, end) of it, row-major and
//             little-endian, and the tensors tile the buffer with no gaps or overlaps.
// Loading validates all of this; any problem is a one-line kiln::Error naming the file.
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "runtime/tensor.hpp"

namespace kiln {

using Metadata = std::map<std::string, std::string>;

struct SafetensorsFile {
  TensorMap tensors;
  Metadata metadata;  // the header's "__metadata__", empty when absent
};

// Reads the whole file, then copies each tensor out: peak memory is about twice the file.
SafetensorsFile load_safetensors(const std::string& path);
// The same from bytes already in memory; `file` labels errors.
SafetensorsFile parse_safetensors(std::string_view bytes, std::string_view file);

// Writes tensors in name order through write_file_atomically, so a crash mid-save leaves
// the old file. "__metadata__" is written only when `metadata` is not empty.
void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const Metadata& metadata = {});
// The file's bytes; `file` labels errors (a tensor whose data does not fit its shape).
std::string serialize_safetensors(const TensorMap& tensors, const Metadata& metadata,
                                  std::string_view file);

}  // namespace kiln
