// The two hand CPU policies: widenet is built channels-innermost (the rule's pick for
// 64-channel convs, schedules/cpu_channels.cpp) and widenet_batch batch-innermost
// (cpu_simd.cpp). Every output element of all three entries must agree.
#include "models/support.hpp"

TEST_CASE("the channels-innermost policy computes what the batch-innermost one does", "[models]") {
  const kiln::Network channels(kiln::find_model("widenet"), "cpu");
  const kiln::Network batch(kiln::find_model("widenet_batch"), "cpu");
  kiln::modeltest::check_same_numbers(channels, batch);
}
