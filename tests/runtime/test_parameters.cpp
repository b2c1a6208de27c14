// Parameters::initialize: each tensor from its table entry's initializer.
#include <catch2/catch.hpp>

#include "dsl/kiln.hpp"
#include "runtime/parameters.hpp"

namespace {
using namespace kiln;

inline constexpr auto with_prelu = checked<model("with_prelu", input(2, 5, 5), conv2d(3, 3),
                                                 prelu(), global_avg_pool, dense(4), prelu(0.1f))>;

TEST_CASE("initialize: prelu's slopes start at their constant, other weights are drawn") {
  const ModelView view = view_of<with_prelu>();
  Parameters params(view);
  params.initialize(7);
  for (const Parameter& p : view.parameters) {
    const std::span<const float> v = params.values().subspan(p.offset, p.size());
    INFO(p.name.view());
    if (p.init == Init::constant) {
      for (float x : v) CHECK(x == p.init_value);
    } else if (p.role == ParameterRole::weight) {
      int distinct_nonzero = 0;
      for (float x : v) distinct_nonzero += x != 0.0f && x != v[0];
      CHECK(distinct_nonzero > 0);
    } else {
      for (float x : v) CHECK(x == 0.0f);
    }
  }
  // The constants are the layers' own: 0.25 by default, 0.1 as given.
  CHECK(view.parameters[2].name.view() == "prelu1.weight");
  CHECK(params.values()[view.parameters[2].offset] == 0.25f);
  CHECK(view.parameters[5].name.view() == "prelu2.weight");
  CHECK(params.values()[view.parameters[5].offset + 3] == 0.1f);
}

}  // namespace
