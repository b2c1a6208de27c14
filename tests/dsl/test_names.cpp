// Layer names: PyTorch-style defaults (conv1, fc1, relu1, ...: a stem per op, numbered
// per op in model order) and .named(...). Parameter names are "<layer>.weight" and
// "<layer>.bias", so these are the keys a checkpoint is saved under.
#include <catch2/catch.hpp>

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

#include "dsl/kiln.hpp"
#include "printers.hpp"
#include "models/lenet5.hpp"

namespace {
using namespace kiln;

constexpr std::array<std::string_view, 14> lenet5_names{
    "input", "conv1", "relu1", "max_pool1", "conv2", "relu2", "max_pool2",
    "flatten1", "fc1", "relu3", "fc2", "relu4", "fc3", "softmax_cross_entropy1"};

constexpr bool names_are(const auto& m, const auto& names) {
  for (int i = 0; i < m.size(); ++i)
    if (m[i].name.view() != names[i]) return false;
  return true;
}
static_assert(names_are(models::lenet5, lenet5_names));

// Counting is per op and runs through blocks in model order.
constexpr auto blocks = model("t", input(8, 4, 4),
                              residual(sequence(conv2d(8, 3, pad(1)), relu, avg_pool(1))),
                              concat(conv2d(4, 1), sequence(conv2d(4, 1), sigmoid)), kiln::tanh);
static_assert(blocks.error == ShapeError{});
static_assert(names_are(blocks, std::array<std::string_view, 10>{
                                    "input", "conv1", "relu1", "avg_pool1", "add1", "conv2",
                                    "conv3", "sigmoid1", "concat1", "tanh1"}));

// .named() sets the name its parameters are saved under.
constexpr auto named = model("t", input(1, 8, 8), conv2d(4, 3).named("features.0"), relu,
                             flatten, dense(2).named("classifier"));
static_assert(named[1].name == Label("features.0"));
static_assert(named[4].name == Label("classifier"));
static_assert(named.parameter_table()[0].name == Label("features.0.weight"));
static_assert(named.parameter_table()[3].name == Label("classifier.bias"));

// A named layer still takes its number, so naming one layer leaves the default names
// (and checkpoint keys) of the others as they were.
constexpr auto one_named = model("t", input(4), dense(4).named("stem"), dense(4), dense(2));
static_assert(one_named[2].name == Label("fc2"));
static_assert(one_named[3].name == Label("fc3"));

// .named() and .initialized() chain in either order and change nothing else.
static_assert(dense(3).named("x").initialized(Init::zeros) ==
              dense(3).initialized(Init::zeros).named("x"));
static_assert(dense(3).named("x").units == 3);
static_assert(dense(3).initialized(Init::xavier).init == Init::xavier);
static_assert(dense(3, Init::zeros).init == Init::zeros);
static_assert(dense(3).init == Init::he);  // the default

// Activations with a constant: PyTorch's defaults, or the value given.
static_assert(leaky_relu().op == Op::leaky_relu && leaky_relu().alpha == 0.01f);
static_assert(leaky_relu(0.2f).alpha == 0.2f);
static_assert(elu().op == Op::elu && elu().alpha == 1.0f);
static_assert(elu(0.5f).alpha == 0.5f);
static_assert(prelu().op == Op::prelu && prelu().alpha == 0.25f && prelu().init == Init::constant);
static_assert(prelu(0.1f).alpha == 0.1f);
// Their default names follow the op, numbered per op.
constexpr auto activations = model("t", input(2, 4, 4), leaky_relu(), elu(), prelu(), prelu(),
                                   global_avg_pool);
static_assert(activations[1].name == Label("leaky_relu1"));
static_assert(activations[2].name == Label("elu1"));
static_assert(activations[4].name == Label("prelu2"));
static_assert(activations[5].name == Label("global_avg_pool1"));
static_assert(activations.parameter_table()[1].name == Label("prelu2.weight"));

// Label: the fixed-capacity name type.
static_assert(Label("fc1").view() == "fc1" && Label("fc1").size() == 3);
static_assert(Label().empty() && !Label("a").empty());
static_assert(Label("conv").append(0) == Label("conv0"));
static_assert(Label("relu").append(120) == Label("relu120"));
static_assert(join(Label("layer1.0"), ".", "weight") == Label("layer1.0.weight"));
static_assert(join(Label(), ".", "weight") == Label("weight"));  // no leading dot
// capacity - 1 characters fit (room for the NUL); one more is an error, never a cut name
// (at compile time in a model: tests/compile_fail/name_too_long.cpp).
static_assert(Label("0123456789012345678901234567890123456789012345678901234").size() ==
              Label::capacity - 1);

}  // namespace

TEST_CASE("dsl names: a name longer than the capacity is refused, not cut") {
  const std::string fits(Label::capacity - 1, 'a'), too_long(Label::capacity, 'a');
  CHECK(Label(fits).size() == Label::capacity - 1);
  CHECK_THROWS_AS(Label(too_long), std::length_error);
  CHECK_THROWS_AS(join(Label(fits), ".", "weight"), std::length_error);
}

TEST_CASE("dsl names: default names and parameter names, read at run time") {
  const auto m = model("t", input(3, 8, 8), conv2d(4, 3), relu, conv2d(4, 3).named("head"),
                       relu, flatten, dense(2));
  CHECK(m[0].name.view() == "input");
  CHECK(m[1].name.view() == "conv1");
  CHECK(m[2].name.view() == "relu1");
  CHECK(m[3].name.view() == "head");
  CHECK(m[4].name.view() == "relu2");
  CHECK(m[5].name.view() == "flatten1");
  CHECK(m[6].name.view() == "fc1");
  const auto table = m.parameter_table();
  CHECK(table[0].name.view() == "conv1.weight");
  CHECK(table[1].name.view() == "conv1.bias");
  CHECK(table[2].name.view() == "head.weight");
  CHECK(table[3].name.view() == "head.bias");
  CHECK(table[4].name.view() == "fc1.weight");
  CHECK(table[5].name.view() == "fc1.bias");
}

namespace {
using namespace kiln;
// sequential(prefix, ...) names children by position as nn.Sequential does; a block's
// named layers are prefixed with its position; a repeat's copies take one position each.
constexpr auto features = model("t", input(3, 16, 16),
    sequential("features", conv2d(8, 3, pad(1)), relu, max_pool(2), conv2d(8, 3, pad(1)).named("last")),
    global_avg_pool, dense(4).named("fc"));
static_assert(names_are(features, std::array<std::string_view, 7>{
                                      "input", "features.0", "features.1", "features.2",
                                      "features.last", "global_avg_pool1", "fc"}));
static_assert(features.parameter_table()[0].name == Label("features.0.weight"));

constexpr auto block = residual(sequence(conv2d(8, 3, pad(1)).named("conv1"), relu,
                                         conv2d(8, 3, pad(1)).named("conv2")));
constexpr auto downsample = sequential("downsample", conv2d(16, 1, stride(2)), batch_norm());
constexpr auto wide = residual(sequence(conv2d(16, 3, stride(2), pad(1)).named("conv1"), relu,
                                        conv2d(16, 3, pad(1)).named("conv2")), downsample);
constexpr auto block16 = residual(sequence(conv2d(16, 3, pad(1)).named("conv1"), relu,
                                           conv2d(16, 3, pad(1)).named("conv2")));
constexpr auto stages = model("t", input(8, 8, 8),
    sequential("layer1", block, repeat<2>(block)), sequential("layer2", wide, block16.named("extra")));
static_assert(stages.error == ShapeError{});
constexpr bool starts_with_names(const auto& m, std::initializer_list<std::string_view> names) {
  int i = 0;
  for (std::string_view n : names)
    if (m[i++].name.view() != n) return false;
  return true;
}
static_assert(starts_with_names(stages, {
    "input",
    "layer1.0.conv1", "relu1", "layer1.0.conv2", "add1",
    "layer1.1.conv1", "relu2", "layer1.1.conv2", "add2",
    "layer1.2.conv1", "relu3", "layer1.2.conv2", "add3",
    "layer2.0.conv1", "relu4", "layer2.0.conv2", "layer2.0.downsample.0", "layer2.0.downsample.1",
    "add4",
    "layer2.1.extra.conv1", "relu5", "layer2.1.extra.conv2", "add5"}));
static_assert(stages.parameter_table()[18].name == Label("layer2.0.downsample.1.weight"));
}  // namespace
