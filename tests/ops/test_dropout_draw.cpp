// dropout's draw (generators/ops/dropout.cpp's contract, as tests/reference re-implements
// it; the op table checks the lowering against that reference element by element): the
// kept fraction is 1 - p, the same seed gives the same mask, another seed or another
// layer name a different one, and neighbouring elements are not correlated.
#include <catch2/catch.hpp>

#include "reference/normalization.hpp"

namespace {
using kiln::reference::dropout_keeps;

double kept_fraction(uint32_t seed, std::string_view layer, double p, uint32_t count) {
  uint32_t kept = 0;
  for (uint32_t e = 0; e < count; ++e) kept += dropout_keeps(seed, layer, e, p);
  return double(kept) / count;
}

TEST_CASE("dropout's draw keeps 1 - p of the elements, seeded, per layer", "[ops]") {
  constexpr uint32_t n = 200000;  // standard error of a fraction: at most 0.0012
  for (double p : {0.1, 0.5, 0.9}) {
    INFO("p = " << p);
    CHECK(std::abs(kept_fraction(1, "dropout1", p, n) - (1 - p)) < 0.006);
    CHECK(std::abs(kept_fraction(2, "classifier.0", p, n) - (1 - p)) < 0.006);
  }
  auto agreement = [&](uint32_t seed_a, std::string_view a, uint32_t seed_b, std::string_view b) {
    uint32_t same = 0;
    for (uint32_t e = 0; e < n; ++e) same += dropout_keeps(seed_a, a, e, 0.5) == dropout_keeps(seed_b, b, e, 0.5);
    return double(same) / n;
  };
  CHECK(agreement(7, "dropout1", 7, "dropout1") == 1.0);           // the same seed: the same mask
  CHECK(std::abs(agreement(7, "dropout1", 8, "dropout1") - 0.5) < 0.006);  // another seed: independent
  CHECK(std::abs(agreement(7, "dropout1", 7, "dropout2") - 0.5) < 0.006);  // another layer: independent
  uint32_t both = 0;  // element e and e + 1 kept together a quarter of the time at p = 0.5
  for (uint32_t e = 0; e < n; ++e) both += dropout_keeps(3, "dropout1", e, 0.5) && dropout_keeps(3, "dropout1", e + 1, 0.5);
  CHECK(std::abs(double(both) / n - 0.25) < 0.006);
}

}  // namespace
