// A layer named by hand with a name the default naming gives another layer.
// expect-first: kiln::shape_error::two_layers_share_a_name<2, kiln::Label{"fc2"}, kiln::Shape{1, int [4]{2, 0, 0, 0}}, kiln::Shape{1, int [4]{1, 0, 0, 0}}>
// expect: static assertion failed: kiln::model: two layers share this name (the other is the layer in EarlierLayer); rename one with .named(...)
#include "dsl/kiln.hpp"

using namespace kiln;

#ifdef KILN_BAD
inline constexpr auto net = checked<model("net", input(4), dense(3).named("fc2"), dense(2))>;
#else
inline constexpr auto net = checked<model("net", input(4), dense(3).named("hidden"), dense(2))>;
#endif
