// Shapes and names: the structural value types every other DSL header builds on.
#pragma once
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string_view>

namespace kiln {

// The shape of one sample, outermost dimension first as PyTorch writes it:
// (C, H, W) for images, (F) for feature vectors, (T, F) for sequences.
// The batch is not part of it: it is a run-time extent.
struct Shape {
  int rank = 0;
  int dims[4]{};  // a plain array, so compile errors print it as {C, H, W, 0}

  constexpr int operator[](int i) const { return dims[i]; }
  constexpr long long elements() const {
    long long n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  constexpr bool is_image() const { return rank == 3; }
  constexpr bool is_flat() const { return rank == 1; }
  // (T, F): T steps of F features (or of one token id: tokens(T, V)).
  constexpr bool is_sequence() const { return rank == 2; }
  // Image accessors; only meaningful when is_image().
  constexpr int channels() const { return dims[0]; }
  constexpr int height() const { return dims[1]; }
  constexpr int width() const { return dims[2]; }
  friend constexpr bool operator==(const Shape&, const Shape&) = default;
};

constexpr Shape shape(int f) { return Shape{1, {f, 0, 0, 0}}; }
constexpr Shape shape(int a, int b) { return Shape{2, {a, b, 0, 0}}; }
constexpr Shape shape(int c, int h, int w) { return Shape{3, {c, h, w, 0}}; }
constexpr Shape shape(int a, int b, int c, int d) { return Shape{4, {a, b, c, d}}; }

// Not constexpr on purpose: reaching it while a model is built is the compile error
// "call to non-constexpr function 'kiln::name_longer_than_55_characters()'".
inline void name_longer_than_55_characters() {
  throw std::length_error("kiln: a layer or parameter name is longer than 55 characters");
}

// A short fixed-capacity string usable as a template argument (layer and parameter
// names such as "layer4.1.downsample.1.running_mean").
struct Label {
  static constexpr std::size_t capacity = 56;
  char text[capacity]{};  // a plain array, so compile errors print it as "fc1"

  constexpr Label() = default;
  constexpr Label(std::string_view s) { append(s); }
  template <std::size_t N>
  constexpr Label(const char (&s)[N]) : Label(std::string_view(s, N - 1)) {}

  constexpr std::size_t size() const {
    std::size_t n = 0;
    while (n < capacity && text[n] != '\0') ++n;
    return n;
  }
  constexpr std::string_view view() const { return {text, size()}; }
  constexpr bool empty() const { return text[0] == '\0'; }
  // A name that does not fit is an error, never cut: cut names would collide in
  // checkpoints. In a constant expression the error is at compile time.
  constexpr Label& append(std::string_view s) {
    std::size_t n = size();
    if (n + s.size() >= capacity) name_longer_than_55_characters();
    for (char ch : s) text[n++] = ch;
    return *this;
  }
  constexpr Label& append(int v) {
    char digits[12]{};
    int k = 0;
    if (v == 0) digits[k++] = '0';
    while (v > 0) { digits[k++] = char('0' + v % 10); v /= 10; }
    while (k > 0) { char ch = digits[--k]; append(std::string_view(&ch, 1)); }
    return *this;
  }
  friend constexpr bool operator==(const Label&, const Label&) = default;
};

constexpr Label join(Label a, std::string_view sep, std::string_view b) {
  if (a.empty()) return Label(b);
  return a.append(sep).append(b);
}

}  // namespace kiln
