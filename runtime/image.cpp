// PNG I/O with libpng directly, not halide_image_io.h: that header aborts on any
// error by default, and its non-aborting mode drops the message, leaks libpng's
// structs and longjmps over a live std::vector; it also mis-reads palette and
// 1/2/4-bit images (no png_set_expand).
#include "runtime/image.hpp"

#include "runtime/files.hpp"

#include <png.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "runtime/error.hpp"

namespace kiln {
namespace {

// libpng reports errors by longjmp to a setjmp point. Every setjmp below sits in a
// small function whose locals are trivially destructible, so a jump skips no C++
// destructor; the caller turns the recorded message into a kiln::Error.
struct PngStatus {
  char message[160] = "";
};

[[noreturn]] void record_error(png_structp png, png_const_charp text) {
  auto* status = static_cast<PngStatus*>(png_get_error_ptr(png));
  std::snprintf(status->message, sizeof status->message, "%s", text);
  png_longjmp(png, 1);
}

void ignore_warning(png_structp, png_const_charp) {}

// libpng's stdio reader says only "Read Error"; say what a short read means.
void read_from_file(png_structp png, png_bytep data, size_t length) {
  auto* file = static_cast<std::FILE*>(png_get_io_ptr(png));
  if (std::fread(data, 1, length, file) != length)
    png_error(png, std::feof(file) ? "truncated: the file ends inside the image" : "read error");
}

struct Reader {
  PngStatus status;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &status, record_error,
                                           ignore_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  Reader() = default;
  Reader(const Reader&) = delete;  // libpng holds &status
  ~Reader() { png_destroy_read_struct(&png, &info, nullptr); }
};

struct Layout {
  png_uint_32 width = 0, height = 0;
  int channels = 0, bit_depth = 0;  // after expansion: 1..4 channels of 8 or 16 bits
  size_t row_bytes = 0;
};

bool read_header(png_structp png, png_infop info, std::FILE* file, Layout* layout) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_read_fn(png, file, read_from_file);
  png_set_sig_bytes(png, 8);  // load_png has read and checked the signature
  png_read_info(png, info);
  png_set_expand(png);  // palette -> RGB(A), gray below 8 bits -> 8 bits, tRNS -> alpha
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  layout->width = png_get_image_width(png, info);
  layout->height = png_get_image_height(png, info);
  layout->channels = png_get_channels(png, info);
  layout->bit_depth = png_get_bit_depth(png, info);
  layout->row_bytes = png_get_rowbytes(png, info);
  return true;
}

bool read_rows(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, nullptr);  // also checks the chunks after the pixels, up to IEND
  return true;
}

struct Writer {
  PngStatus status;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &status, record_error,
                                            ignore_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  Writer() = default;
  Writer(const Writer&) = delete;
  ~Writer() { png_destroy_write_struct(&png, &info); }
};

void append_to_vector(png_structp png, png_bytep data, size_t length) {
  auto* out = static_cast<std::vector<png_byte>*>(png_get_io_ptr(png));
  bool out_of_memory = false;
  try {
    out->insert(out->end(), data, data + length);
  } catch (const std::bad_alloc&) {
    out_of_memory = true;  // png_error outside the handler: never longjmp out of a catch
  }
  if (out_of_memory) png_error(png, "out of memory");
}

void flush_nothing(png_structp) {}

bool encode(png_structp png, png_infop info, const Image& image, png_bytepp rows,
            std::vector<png_byte>* out) {
  static constexpr int color_types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                        PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, out, append_to_vector, flush_nothing);
  png_set_IHDR(png, info, image.width, image.height, 8, color_types[image.channels - 1],
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

Image load_png(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                        &std::fclose);
  if (!file) fail("{}: cannot open: {}", path, std::strerror(errno));
  png_byte signature[8];
  if (std::fread(signature, 1, 8, file.get()) != 8 && std::ferror(file.get()))
    fail("{}: cannot read: {}", path, std::strerror(errno));
  if (std::feof(file.get()) || png_sig_cmp(signature, 0, 8) != 0)
    fail("{}: not a PNG file", path);

  Reader reader;
  if (!reader.info) fail("{}: cannot create a PNG reader (out of memory)", path);
  Layout layout;
  if (!read_header(reader.png, reader.info, file.get(), &layout))
    fail("{}: bad PNG: {}", path, reader.status.message);
  // libpng caps each side at 1,000,000; cap the total so a forged header cannot ask
  // for terabytes. 2^28 samples is a 16k x 16k RGBA image, 1 GiB as floats.
  const size_t samples = size_t(layout.width) * layout.height * layout.channels;
  if (samples > (size_t(1) << 28))
    fail("{}: {}x{} PNG with {} channels is too large", path, layout.width, layout.height,
         layout.channels);

  std::vector<png_byte> bytes(layout.row_bytes * layout.height);
  std::vector<png_bytep> rows(layout.height);
  for (png_uint_32 y = 0; y < layout.height; ++y) rows[y] = &bytes[y * layout.row_bytes];
  if (!read_rows(reader.png, rows.data())) fail("{}: bad PNG: {}", path, reader.status.message);

  Image image{int(layout.channels), int(layout.height), int(layout.width), {}};
  image.pixels.resize(samples);
  const int C = image.channels, W = image.width;
  for (int y = 0; y < image.height; ++y) {
    const png_byte* row = rows[y];  // interleaved (x, c), big-endian when 16-bit
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < C; ++c) {
        const int i = x * C + c;
        // Division, not * (1/255): b/255 is then the float nearest to the true value.
        image.at(c, y, x) = layout.bit_depth == 16
                                ? float(row[2 * i] << 8 | row[2 * i + 1]) / 65535.0f
                                : float(row[i]) / 255.0f;
      }
  }
  return image;
}

void save_png(const std::string& path, const Image& image) {
  if (image.channels < 1 || image.channels > 4)
    fail("{}: cannot save {} channels as PNG (1 to 4)", path, image.channels);
  if (image.width < 1 || image.height < 1 ||
      image.pixels.size() != size_t(image.channels) * image.height * image.width)
    fail("{}: image is {}x{}x{} (CHW) but holds {} values", path, image.channels,
         image.height, image.width, image.pixels.size());

  const int C = image.channels, W = image.width;
  std::vector<png_byte> bytes(image.pixels.size());  // interleaved (y, x, c)
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < image.height; ++y)
      for (int x = 0; x < W; ++x) {
        const float v = image.at(c, y, x);
        const float clamped = v > 0 ? (v < 1 ? v : 1) : 0;  // NaN -> 0
        bytes[(size_t(y) * W + x) * C + c] = png_byte(clamped * 255.0f + 0.5f);
      }
  std::vector<png_bytep> rows(image.height);
  for (int y = 0; y < image.height; ++y) rows[y] = &bytes[size_t(y) * W * C];

  Writer writer;
  if (!writer.info) fail("{}: cannot create a PNG writer (out of memory)", path);
  std::vector<png_byte> encoded;
  if (!encode(writer.png, writer.info, image, rows.data(), &encoded))
    fail("{}: cannot encode PNG: {}", path, writer.status.message);
  write_file_atomically(
      path, std::string_view(reinterpret_cast<const char*>(encoded.data()), encoded.size()));
}

}  // namespace kiln
