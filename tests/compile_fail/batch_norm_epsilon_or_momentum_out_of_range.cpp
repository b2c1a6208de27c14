// A momentum given as a percentage (10 for 0.1); the good variant gives PyTorch's 0.1.
// expect-first: kiln::shape_error::batch_norm_epsilon_or_momentum_out_of_range<2, kiln::Label{"bn1"}, kiln::Shape{3, int [4]{8, 8, 8, 0}}>
// expect: static assertion failed: batch_norm(eps, momentum): eps must be positive and 0 <= momentum <= 1
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(3, 8, 8), conv2d(8, 3, pad(1)),
#ifdef KILN_BAD
    batch_norm(1e-5f, 10.0f),
#else
    batch_norm(1e-5f, 0.1f),
#endif
    relu, global_avg_pool, dense(2), softmax_cross_entropy)>;
