// A grouped conv whose output channels do not split into its groups: 6 outputs in 4 groups.
// expect-first: kiln::shape_error::channels_not_divisible_by_groups<2, kiln::Label{"conv2"}, kiln::Shape{3, int [4]{8, 8, 8, 0}}, kiln::Shape{3, int [4]{8, 6, 4, 0}}>
// expect: static assertion failed: conv2d: groups(g) needs input and output channels both divisible by g (InOutGroups: C, O, g); change g or the channel counts
#include "dsl/kiln.hpp"

using namespace kiln;

inline constexpr auto net = checked<model("net", input(3, 8, 8), conv2d(8, 3, pad(1)),
#ifdef KILN_BAD
    conv2d(6, 3, pad(1), groups(4)),
#else
    conv2d(8, 3, pad(1), groups(4)),
#endif
    relu, flatten, dense(10))>;
