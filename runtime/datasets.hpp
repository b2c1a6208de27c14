// The data sets recipes name, loaded and split the same way every time.
#pragma once
#include "runtime/mnist.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace kiln {

// Where the data sets shipped in the repository live (data/<name>).
std::string default_data_dir(std::string_view dataset);

// "mnist": the 10,000 digits of data/mnist, 8,000 to train and 2,000 held out (seed 0).
// "mnist_distorted": the same digits and split, each rotated, scaled and moved on a
// 42 x 42 canvas (runtime/distorted.hpp, seed 0).
// "shapes10": 12,000 generated images (runtime/shapes.hpp, seed 0), 10,000 to train and
// 2,000 held out; it reads no files, so `dir` is not used. "shape_windows": 24,000
// generated windows (shapes.hpp, seed 0), 20,000 to train and 4,000 held out, likewise.
// kiln::Error for an unknown data set name.
std::pair<ImageSet, ImageSet> load_classification_data(std::string_view dataset,
                                                       const std::string& dir);

}  // namespace kiln
