// checked<> on good models, and ModelView: a Model<N> seen through one non-template type
// by the generators, the runtime and the CLI.
#include <catch2/catch.hpp>

#include "dsl/kiln.hpp"
#include "printers.hpp"
#include "models/lenet5.hpp"

namespace {
using namespace kiln;

// checked<> hands back the model unchanged when its shapes are right.
constexpr auto tiny_unchecked = model("tiny", input(2, 4, 4), conv2d(3, 3), relu, flatten,
                                      dense(5).named("head"));
inline constexpr auto tiny = checked<tiny_unchecked>;
static_assert(tiny.error == ShapeError{});
static_assert(tiny.nodes == tiny_unchecked.nodes);
static_assert(tiny.name == Label("tiny"));
// Without a loss, forward() returns the last node.
static_assert(tiny.loss_node() == -1 && tiny.output_node() == 4);
static_assert(tiny.output_shape() == shape(5));  // conv 3x2x2 -> flatten 12 -> dense 5

// With a loss, the output is what the loss reads.
static_assert(models::lenet5.loss_node() == 13);
static_assert(models::lenet5.output_node() == 12);
static_assert(models::lenet5.output_shape() == shape(10));
static_assert(models::lenet5.input_shape() == shape(1, 28, 28));

// checked<> of models with blocks.
inline constexpr auto with_blocks = checked<model(
    "blocks", input(4, 8, 8), residual(sequence(conv2d(4, 3, pad(1)), relu)),
    concat(conv2d(2, 1), max_pool(3, stride(1), pad(1))), avg_pool(8), flatten, dense(3),
    softmax_cross_entropy)>;
static_assert(with_blocks.output_shape() == shape(3));

}  // namespace

TEST_CASE("dsl model view: LeNet-5") {
  const ModelView v = view_of<models::lenet5>();
  CHECK(v.name == "lenet5");
  REQUIRE(v.nodes.size() == 14);
  CHECK(v.parameters.size() == 10);  // only the used slots of the table
  CHECK(v.parameter_count == 61706);
  CHECK(v.input_shape() == shape(1, 28, 28));
  CHECK(v.output_node == 12);
  CHECK(v.loss_node == 13);
  CHECK(v.output_shape() == shape(10));
  CHECK(v.nodes[8].name.view() == "fc1");
  CHECK(v.nodes[8].shape == shape(120));

  // parameters_of(i): node i's weight then bias; nothing for a node without parameters.
  const auto conv1 = v.parameters_of(1);
  REQUIRE(conv1.size() == 2);
  CHECK(conv1[0].name.view() == "conv1.weight");
  CHECK(conv1[1].name.view() == "conv1.bias");
  CHECK(conv1[1].offset == 150);
  const auto fc3 = v.parameters_of(12);
  REQUIRE(fc3.size() == 2);
  CHECK(fc3[0].name.view() == "fc3.weight");
  CHECK(fc3[0].shape == shape(10, 84));
  CHECK(fc3[1].offset == 61696);
  for (int i : {0, 2, 3, 5, 6, 7, 9, 11, 13}) {
    INFO("node " << i);
    CHECK(v.parameters_of(i).empty());
  }
  long long total = 0;
  for (const Parameter& p : v.parameters) total += p.size();
  CHECK(total == v.parameter_count);
}

TEST_CASE("dsl model view: a model without a loss, and one with blocks") {
  const ModelView v = view_of<tiny>();
  CHECK(v.name == "tiny");
  CHECK(v.nodes.size() == 5);
  CHECK(v.loss_node == -1);
  CHECK(v.output_node == 4);
  CHECK(v.output_shape() == shape(5));
  // conv1 3*3*2*3 + 3 = 57, head 12*5 + 5 = 65
  CHECK(v.parameter_count == 57 + 65);
  const auto head = v.parameters_of(4);
  REQUIRE(head.size() == 2);
  CHECK(head[0].name.view() == "head.weight");
  CHECK(head[0].offset == 57);

  const ModelView b = view_of<with_blocks>();
  // 0 input, 1 conv1, 2 relu1, 3 add1, 4 conv2, 5 max_pool1, 6 concat1, 7 avg_pool1,
  // 8 flatten1, 9 fc1, 10 softmax_cross_entropy1
  REQUIRE(b.nodes.size() == 11);
  CHECK(b.nodes[6].shape == shape(6, 8, 8));  // 2 + 4 channels
  CHECK(b.output_node == 9);
  CHECK(b.loss_node == 10);
  CHECK(b.parameters.size() == 6);
  CHECK(b.parameters_of(4).size() == 2);
  CHECK(b.parameters_of(4)[0].shape == shape(2, 4, 1, 1));
  CHECK(b.parameters_of(9)[0].shape == shape(3, 6));
}
