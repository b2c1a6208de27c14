// roi_pool (as roi_align) cuts its regions from a (C, H, W) feature map, not from flat
// features.
// expect-first: kiln::shape_error::region_layer_expects_an_image_input<3, kiln::Label{"roi_pool1"}, kiln::Shape{1, int [4]{256, 0, 0, 0}}>
// expect: static assertion failed: roi_align / roi_pool: expects a (C, H, W) feature map
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(4, 8, 8),
#ifdef KILN_BAD
    conv2d(4, 3, pad(1)), flatten,
#else
    conv2d(4, 3, pad(1)), relu,
#endif
    roi_pool(6, 2, 0.5f), dense(5))>;
