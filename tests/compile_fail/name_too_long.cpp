// A layer name that does not fit kiln's fixed-capacity labels (55 characters).
// expect-first: call to non-'constexpr' function 'void kiln::name_longer_than_55_characters()'
// expect: name_longer_than_55_characters
#include "dsl/kiln.hpp"

using namespace kiln;

#ifdef KILN_BAD
inline constexpr auto net = checked<model("net", input(4),
    dense(3).named("a_name_that_is_far_too_long_to_fit_in_the_fixed_capacity_label"))>;
#else
inline constexpr auto net = checked<model("net", input(4), dense(3).named("short_name"))>;
#endif
