// A transposed conv after flatten: upsampling works on (C, H, W) images.
// expect-first: kiln::shape_error::upsampling_expects_an_image_input<4, kiln::Label{"deconv1"}, kiln::Shape{1, int [4]{128, 0, 0, 0}}>
// expect: static assertion failed: conv_transpose2d/upsample_bilinear: expects a (C, H, W) input
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(3, 8, 8), conv2d(8, 3, pad(1)),
#ifdef KILN_BAD
    max_pool(2), flatten,
#else
    max_pool(2),
#endif
    conv_transpose2d(4, 2, stride(2)), conv2d(3, 1), pixel_softmax_cross_entropy)>;
