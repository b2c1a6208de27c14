#include "runtime/datasets.hpp"

#include "runtime/distorted.hpp"
#include "runtime/error.hpp"
#include "runtime/shapes.hpp"

namespace kiln {

std::string default_data_dir(std::string_view dataset) {
  if (dataset == "mnist_distorted") dataset = "mnist";  // the same digits, distorted on load
  return std::string(KILN_SOURCE_DIR) + "/data/" + std::string(dataset);
}

std::pair<ImageSet, ImageSet> load_classification_data(std::string_view dataset,
                                                       const std::string& dir) {
  if (dataset == "mnist") return split(load_mnist(dir), 8000, 0);
  // The same digits and split, each distorted by its own map (seed 0).
  if (dataset == "mnist_distorted") return split(distorted::distort_all(load_mnist(dir), 0), 8000, 0);
  if (dataset == "shapes10") return split(shapes::make_shapes10(12'000, 0), 10'000, 0);
  if (dataset == "shape_windows") return split(shapes::make_shape_windows(24'000, 0), 20'000, 0);
  fail("unknown data set '{}' (known: mnist, mnist_distorted, shapes10, shape_windows)", dataset);
}

}  // namespace kiln
