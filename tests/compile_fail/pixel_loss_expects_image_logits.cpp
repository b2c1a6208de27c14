// A per-pixel loss on flat logits: pixel_softmax_cross_entropy reads (K, H, W) logits.
// expect-first: kiln::shape_error::pixel_softmax_cross_entropy_expects_image_logits<4, kiln::Label{"softmax_cross_entropy1"}, kiln::Shape{1, int [4]{4, 0, 0, 0}}>
// expect: static assertion failed: pixel_softmax_cross_entropy: expects per-pixel (classes, H, W) logits
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(3, 8, 8),
#ifdef KILN_BAD
    conv2d(4, 3), flatten, dense(4),
#else
    conv2d(4, 3, pad(1)), relu, conv2d(4, 1),
#endif
    pixel_softmax_cross_entropy)>;
