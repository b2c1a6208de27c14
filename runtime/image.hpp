// PNG files as float images: load_png / save_png.
//
// Image is planar CHW (channel-major, then rows, then columns), values in [0, 1].
// That is the layout of a dense Halide::Runtime::Buffer<float>(width, height,
// channels), so `Buffer<float>(img.pixels.data(), img.width, img.height,
// img.channels)` views it without a copy.
#pragma once
#include <string>
#include <vector>

namespace kiln {

struct Image {
  int channels = 0;  // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  int height = 0;
  int width = 0;
  std::vector<float> pixels;  // (channels, height, width), in [0, 1]

  float& at(int c, int y, int x) { return pixels[(size_t(c) * height + y) * width + x]; }
  float at(int c, int y, int x) const { return pixels[(size_t(c) * height + y) * width + x]; }
};

// Reads any PNG: palettes and gray below 8 bits expand to 8-bit gray/RGB, a tRNS
// chunk becomes an alpha channel, 16-bit samples keep their precision (v / 65535).
// Values are the file's raw samples; gamma chunks are ignored.
// Throws kiln::Error naming the file for a missing file, a non-PNG or a damaged PNG.
Image load_png(const std::string& path);

// Writes 8 bits per sample, round(clamp(v, 0, 1) * 255); 1..4 channels.
// Writes to a temporary name beside path and renames, so path is never half-written.
void save_png(const std::string& path, const Image& image);

}  // namespace kiln
