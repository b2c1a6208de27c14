// load_png / save_png: exact round trips, every expandable PNG kind, and bad files
// that must throw a one-line kiln::Error naming the file, never crash.
#include <png.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support.hpp"
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "runtime/error.hpp"
#include "runtime/image.hpp"

namespace fs = std::filesystem;
using kiln::Image;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("kiln_test_image_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// An image whose values are all multiples of 1/255, so 8-bit PNG keeps them exactly.
Image test_image(int channels, int height, int width) {
  Image image{channels, height, width, std::vector<float>(size_t(channels) * height * width)};
  for (size_t i = 0; i < image.pixels.size(); ++i)
    image.pixels[i] = float((i * 37 + 11) % 256) / 255.0f;
  return image;
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const std::string& path, const std::vector<char>& bytes, size_t count) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(count));
}

// Writes rows of packed samples with libpng's stdio API, for the kinds save_png
// never produces (palette, 2-bit gray, 16-bit).
void write_raw_png(const std::string& path, int width, int height, int bit_depth,
                   int color_type, const std::vector<png_byte>& packed,
                   const std::vector<png_color>& palette = {}) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  REQUIRE(file);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, file);
  png_set_IHDR(png, info, width, height, bit_depth, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!palette.empty()) png_set_PLTE(png, info, palette.data(), int(palette.size()));
  png_write_info(png, info);
  const size_t row_bytes = packed.size() / height;
  for (int y = 0; y < height; ++y) png_write_row(png, &packed[y * row_bytes]);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(file);
}

}  // namespace

TEST_CASE("save_png then load_png gives back the same gray and RGB images", "[image]") {
  TempDir dir;
  for (int channels : {1, 2, 3, 4}) {
    const Image image = test_image(channels, 5, 7);
    kiln::save_png(dir / "round_trip.png", image);
    const Image loaded = kiln::load_png(dir / "round_trip.png");
    CHECK(loaded.channels == channels);
    CHECK(loaded.height == 5);
    CHECK(loaded.width == 7);
    CHECK(loaded.pixels == image.pixels);  // exact: every value is k/255
  }
  CHECK(!fs::exists(dir / ("round_trip.png.tmp." + std::to_string(::getpid()))));
}

TEST_CASE("save_png clamps to [0, 1] and rounds to the nearest 1/255", "[image]") {
  TempDir dir;
  Image image{1, 1, 5, {-0.5f, 2.0f, std::nanf(""), 0.5f / 255.0f + 1e-4f, 100.4f / 255.0f}};
  kiln::save_png(dir / "clamped.png", image);
  const Image loaded = kiln::load_png(dir / "clamped.png");
  CHECK(loaded.pixels == std::vector<float>{0.0f, 1.0f, 0.0f, 1 / 255.0f, 100 / 255.0f});
}

TEST_CASE("load_png expands palette and 2-bit gray and keeps 16-bit precision", "[image]") {
  TempDir dir;
  // 2x1 palette image: entries (255, 0, 0) and (0, 128, 255).
  write_raw_png(dir / "palette.png", 2, 1, 8, PNG_COLOR_TYPE_PALETTE, {1, 0},
                {{255, 0, 0}, {0, 128, 255}});
  const Image palette = kiln::load_png(dir / "palette.png");
  REQUIRE(palette.channels == 3);
  CHECK(palette.pixels == std::vector<float>{0, 1, 128 / 255.0f, 0, 1, 0});  // R row, G, B

  // 4x1 2-bit gray: samples 0, 1, 2, 3 packed in one byte, expand to 0, 85, 170, 255.
  write_raw_png(dir / "gray2.png", 4, 1, 2, PNG_COLOR_TYPE_GRAY, {0b00'01'10'11});
  const Image gray2 = kiln::load_png(dir / "gray2.png");
  REQUIRE(gray2.channels == 1);
  CHECK(gray2.pixels == std::vector<float>{0, 85 / 255.0f, 170 / 255.0f, 1});

  // 2x1 16-bit gray, big-endian samples 0x0102 and 0xffff.
  write_raw_png(dir / "gray16.png", 2, 1, 16, PNG_COLOR_TYPE_GRAY, {0x01, 0x02, 0xff, 0xff});
  const Image gray16 = kiln::load_png(dir / "gray16.png");
  CHECK(gray16.pixels == std::vector<float>{0x0102 / 65535.0f, 1});
}

TEST_CASE("load_png names the file and the problem for bad input", "[image]") {
  TempDir dir;
  const std::string missing = dir / "missing.png";
  CHECK(kiln::test::error_from([&] { kiln::load_png(missing); }) ==
        missing + ": cannot open: No such file or directory");

  const std::string text = dir / "text.png";
  std::ofstream(text) << "this is not an image, just some text\n";
  CHECK(kiln::test::error_from([&] { kiln::load_png(text); }) == text + ": not a PNG file");

  const std::string empty = dir / "empty.png";
  std::ofstream{empty};
  CHECK(kiln::test::error_from([&] { kiln::load_png(empty); }) == empty + ": not a PNG file");

  CHECK(kiln::test::error_from([&] { kiln::load_png(dir.path.string()); })
            .starts_with(dir.path.string() + ": cannot read: "));
}

TEST_CASE("load_png throws for a PNG cut at every length", "[image]") {
  TempDir dir;
  const std::string whole = dir / "whole.png";
  kiln::save_png(whole, test_image(3, 6, 9));
  const std::vector<char> bytes = read_bytes(whole);
  const std::string cut = dir / "cut.png";
  for (size_t length = 0; length < bytes.size(); ++length) {
    INFO("cut to " << length << " of " << bytes.size() << " bytes");
    write_bytes(cut, bytes, length);
    const std::string message = kiln::test::error_from([&] { kiln::load_png(cut); });
    CHECK(message.starts_with(cut + ": "));
    CHECK(message.find('\n') == std::string::npos);
    if (length >= 8)  // the signature is whole: every later cut is a short read
      CHECK(message == cut + ": bad PNG: truncated: the file ends inside the image");
  }
}

TEST_CASE("load_png throws for a PNG with a flipped byte in its pixel data", "[image]") {
  TempDir dir;
  const std::string path = dir / "corrupt.png";
  kiln::save_png(path, test_image(1, 8, 8));
  std::vector<char> bytes = read_bytes(path);
  bytes[bytes.size() - 20] ^= 0x40;  // inside IDAT (IEND is the last 12 bytes)
  write_bytes(path, bytes, bytes.size());
  CHECK(kiln::test::error_from([&] { kiln::load_png(path); }).starts_with(path + ": bad PNG: "));
}

TEST_CASE("save_png rejects shapes PNG cannot hold and unwritable paths", "[image]") {
  TempDir dir;
  CHECK(kiln::test::error_from([&] { kiln::save_png(dir / "five.png", test_image(5, 2, 2)); }) ==
        (dir / "five.png") + ": cannot save 5 channels as PNG (1 to 4)");
  Image short_pixels = test_image(1, 2, 2);
  short_pixels.pixels.pop_back();
  CHECK(kiln::test::error_from([&] { kiln::save_png(dir / "short.png", short_pixels); }) ==
        (dir / "short.png") + ": image is 1x2x2 (CHW) but holds 3 values");
  const std::string nowhere = dir / "no/such/dir/x.png";
  CHECK(kiln::test::error_from([&] { kiln::save_png(nowhere, test_image(1, 2, 2)); })
            .starts_with(nowhere + ": cannot save: cannot create "));
}
