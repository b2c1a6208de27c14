// The parameter table: PyTorch names and shapes, offsets into one flat buffer, counts.
// conv2d owns F_h * F_w * C * K + K floats, dense F * K + K, prelu C; nothing else owns any.
// LeNet-5's table is written out in full as its PyTorch twin's state_dict lists it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <vector>
#include <string_view>

#include "dsl/kiln.hpp"
#include "printers.hpp"
#include "models/lenet5.hpp"

namespace {
using namespace kiln;

// conv2d: F * F * C * K + K.
static_assert(model("t", input(3, 32, 32), conv2d(16, 3)).parameter_count() == 448);   // 3*3*3*16 + 16
static_assert(model("t", input(3, 224, 224), conv2d(64, 7, stride(2), pad(3))).parameter_count() ==
              9472);  // 7*7*3*64 + 64: stride and padding change no parameter
static_assert(model("t", input(1, 28, 28), conv2d(6, 5)).parameter_count() == 156);     // 5*5*1*6 + 6
// Non-square: F_h * F_w * C * K + K = 3*5*3*16 + 16.
static_assert(model("t", input(3, 20, 30), conv2d(16, kernel(3, 5))).parameter_count() == 736);
// dense: F * K + K.
static_assert(model("t", input(784), dense(10)).parameter_count() == 7850);
// C is what reaches the layer: the second conv sees 6 channels, not the input's 1.
static_assert(model("t", input(1, 28, 28), conv2d(6, 5), conv2d(16, 5)).parameter_count() ==
              156 + 2416);  // 5*5*6*16 + 16
// F after flatten is C * H * W = 16 * 5 * 5 = 400.
static_assert(model("t", input(16, 5, 5), flatten, dense(120)).parameter_count() == 48120);
// Layers without parameters.
constexpr auto no_parameters = model("t", input(3, 8, 8), relu, max_pool(2), avg_pool(2),
                                     sigmoid, kiln::tanh, flatten, softmax_cross_entropy);
static_assert(no_parameters.error == ShapeError{});
static_assert(no_parameters.parameter_tensor_count() == 0);
static_assert(no_parameters.parameter_count() == 0);

// prelu: one slope per channel (C), or per feature of a flat input (F), starting at its
// init (PyTorch's nn.PReLU(num_parameters, init=0.25)); no bias.
static_assert(model("t", input(5, 7, 3), prelu()).parameter_count() == 5);
static_assert(model("t", input(9), prelu()).parameter_count() == 9);
static_assert(model("t", input(1, 8, 8), conv2d(6, 3), prelu()).parameter_count() == 60 + 6);
constexpr auto prelu_model = model("t", input(1, 8, 8), conv2d(6, 3), prelu(), global_avg_pool,
                                   prelu(0.1f));
static_assert(prelu_model.parameter_tensor_count() == 4);
constexpr auto prelu_table = prelu_model.parameter_table();
static_assert(prelu_table[2].name == Label("prelu1.weight") && prelu_table[2].shape == shape(6) &&
              prelu_table[2].offset == 60 && prelu_table[2].node == 2 &&
              prelu_table[2].role == ParameterRole::weight &&
              prelu_table[2].init == Init::constant && prelu_table[2].init_value == 0.25f);
static_assert(prelu_table[3].name == Label("prelu2.weight") && prelu_table[3].shape == shape(6) &&
              prelu_table[3].offset == 66 && prelu_table[3].init_value == 0.1f);
// Other weights keep no constant.
static_assert(prelu_table[0].init == Init::he && prelu_table[0].init_value == 0.0f);
// The other new ops own nothing.
static_assert(model("t", input(3, 8, 8), leaky_relu(), elu(), global_avg_pool, leaky_relu(0.2f))
                  .parameter_count() == 0);

// PyTorch shapes: conv OIHW, dense [out, in], bias [out].
constexpr auto conv_table = model("t", input(3, 20, 30), conv2d(16, kernel(3, 5))).parameter_table();
static_assert(conv_table[0].shape == shape(16, 3, 3, 5));
static_assert(conv_table[1].shape == shape(16));
constexpr auto dense_table = model("t", input(784), dense(10)).parameter_table();
static_assert(dense_table[0].shape == shape(10, 784));
static_assert(dense_table[1].shape == shape(10));

// LeNet-5 as a whole.
using models::lenet5;
static_assert(lenet5.size() == 14);
static_assert(lenet5.parameter_tensor_count() == 10);
static_assert(lenet5.parameter_count() == 61706);
static_assert(lenet5.error == ShapeError{});

struct Row {
  std::string_view name;
  Shape shape;
  long long offset;
  int node;
  ParameterRole role;
  Init init;
  int fan_in, fan_out;
};
using enum ParameterRole;
// Offsets are the running sum of sizes: 150, 6, 2400, 16, 48000, 120, 10080, 84, 840, 10.
// fan_in = C * F * F (conv) or F (dense); fan_out = K * F * F (conv) or K (dense).
constexpr std::array<Row, 10> lenet5_table{{
    {"conv1.weight", shape(6, 1, 5, 5), 0, 1, weight, Init::he, 25, 150},
    {"conv1.bias", shape(6), 150, 1, bias, Init::zeros, 25, 150},
    {"conv2.weight", shape(16, 6, 5, 5), 156, 4, weight, Init::he, 150, 400},
    {"conv2.bias", shape(16), 2556, 4, bias, Init::zeros, 150, 400},
    {"fc1.weight", shape(120, 400), 2572, 8, weight, Init::he, 400, 120},
    {"fc1.bias", shape(120), 50572, 8, bias, Init::zeros, 400, 120},
    {"fc2.weight", shape(84, 120), 50692, 10, weight, Init::he, 120, 84},
    {"fc2.bias", shape(84), 60772, 10, bias, Init::zeros, 120, 84},
    {"fc3.weight", shape(10, 84), 60856, 12, weight, Init::xavier, 84, 10},
    {"fc3.bias", shape(10), 61696, 12, bias, Init::zeros, 84, 10},
}};

// The same facts at compile time, so a wrong table fails the build as well.
constexpr bool matches(const Parameter& got, const Row& want) {
  return got.name.view() == want.name && got.shape == want.shape &&
         got.offset == want.offset && got.node == want.node && got.role == want.role &&
         got.init == want.init && got.fan_in == want.fan_in && got.fan_out == want.fan_out;
}
constexpr bool lenet5_table_matches() {
  const auto table = lenet5.parameter_table();
  for (int k = 0; k < int(lenet5_table.size()); ++k)
    if (!matches(table[k], lenet5_table[k])) return false;
  return true;
}
static_assert(lenet5_table_matches());

}  // namespace

TEST_CASE("dsl parameters: LeNet-5's table matches its PyTorch state_dict") {
  constexpr auto table = lenet5.parameter_table();
  for (int k = 0; k < int(lenet5_table.size()); ++k) {
    const Row& want = lenet5_table[k];
    const Parameter& got = table[k];
    INFO("parameter " << k << " (" << want.name << ")");
    CHECK(got.name.view() == want.name);
    CHECK(got.shape == want.shape);
    CHECK(got.offset == want.offset);
    CHECK(got.node == want.node);
    CHECK(got.role == want.role);
    CHECK(got.init == want.init);
    CHECK(got.fan_in == want.fan_in);
    CHECK(got.fan_out == want.fan_out);
  }
  // The table has five slots per node (batch norm owns five tensors); the unused ones
  // are marked and own nothing.
  REQUIRE(table.size() == 5 * 14);
  for (int k = 10; k < int(table.size()); ++k) {
    INFO("slot " << k);
    CHECK(table[k].node == -1);
    CHECK(table[k].size() == 0);
  }
}

TEST_CASE("dsl parameters: offsets tile the flat buffer with no gap or overlap") {
  // A model mixing conv, a projection shortcut and dense, so the table is not only LeNet's.
  constexpr auto m = model("t", input(3, 16, 16), conv2d(8, 3, pad(1)),
                           residual(sequence(conv2d(16, 3, stride(2), pad(1)), relu),
                                    conv2d(16, 1, stride(2))),
                           flatten, dense(10));
  static_assert(m.error == ShapeError{});
  constexpr auto table = m.parameter_table();
  const int used = m.parameter_tensor_count();
  REQUIRE(used == 8);
  CHECK(table[0].offset == 0);
  for (int k = 0; k + 1 < used; ++k) {
    INFO("parameter " << k << " (" << table[k].name.view() << ")");
    CHECK(table[k + 1].offset == table[k].offset + table[k].size());
  }
  // conv1 3*3*3*8 + 8 = 224, conv2 3*3*8*16 + 16 = 1168, conv3 (shortcut) 1*1*8*16 + 16 = 144,
  // fc1 (16 * 8 * 8) * 10 + 10 = 10250.
  CHECK(m.parameter_count() == 224 + 1168 + 144 + 10250);
  CHECK(table[used - 1].offset + table[used - 1].size() == m.parameter_count());
}

namespace {
using namespace kiln;
// Storage order: conv weights [O, C, KH, KW] = [16, 3, 3, 5] are stored [KH][KW][C][O],
// so O is innermost (stride 1), then C (16), KW (48), KH (240); other tensors keep
// PyTorch's row-major order.
constexpr Parameter conv_weight = conv_table[0];
static_assert(conv_weight.block == 0);
// PyTorch element (o=1, c=2, ky=1, kx=4) = ((1*3 + 2)*3 + 1)*5 + 4 = 84.
static_assert(conv_weight.flat_index(84) == 1 + 2 * 16 + 4 * 48 + 1 * 240);
static_assert(conv_table[1].flat_index(5) == conv_table[1].offset + 5);
constexpr auto small_dense = model("t", input(7), dense(3)).parameter_table();
// PyTorch element (o=1, i=2) of [3, 7]: row-major, 1*7 + 2.
static_assert(small_dense[0].flat_index(9) == 9);
// More than 16 output channels, a multiple of 16: blocks of 16 output channels outermost.
// [48, 2, 3, 3] is stored [3 blocks][KH 3][KW 3][C 2][16]: the position in a block has
// stride 1, then C 16, KW 32, KH 96, the block 288.
constexpr auto blocked_table = model("t", input(2, 8, 8), conv2d(48, 3)).parameter_table();
constexpr Parameter blocked = blocked_table[0];
static_assert(blocked.block == 16 && blocked.axes().count == 5);
// PyTorch element (o=37, c=1, ky=2, kx=0) = ((37*2 + 1)*3 + 2)*3 + 0 = 681: block 2,
// position 5 within it.
static_assert(blocked.flat_index(681) == 5 + 1 * 16 + 0 * 32 + 2 * 96 + 2 * 288);
// 40 output channels: not a multiple of 16, left unblocked.
static_assert(model("t", input(2, 8, 8), conv2d(40, 3)).parameter_table()[0].block == 0);

TEST_CASE("dsl parameters: scatter_to_storage and gather_from_storage invert each other") {
  for (const Parameter& p : {conv_weight, blocked}) {
    std::vector<int> pytorch(std::size_t(p.size())), flat(std::size_t(p.offset + p.size()), -1),
        back(pytorch.size(), -1);
    for (std::size_t e = 0; e < pytorch.size(); ++e) pytorch[e] = int(e);
    scatter_to_storage(p, pytorch.data(), flat.data());
    // Every slot of the tensor's range written exactly once: a permutation.
    std::vector<int> seen(pytorch.size(), 0);
    for (long long k = p.offset; k < p.offset + p.size(); ++k) ++seen.at(std::size_t(flat[std::size_t(k)]));
    CHECK(std::count(seen.begin(), seen.end(), 1) == long(seen.size()));
    // Output channel is innermost: neighbours in the flat buffer differ in o by one.
    CHECK(flat[std::size_t(p.offset + 1)] == p.shape[1] * p.shape[2] * p.shape[3]);
    gather_from_storage(p, flat.data(), back.data());
    CHECK(back == pytorch);
  }
}
}  // namespace

namespace {
using namespace kiln;
// batch_norm owns weight and bias (learned) and running_mean, running_var and
// num_batches_tracked (buffers), with PyTorch's names and initial values. The table
// lists every learned tensor first, then the buffers, each tiling its own flat buffer.
constexpr auto bn_model = model("t", input(3, 8, 8), conv2d(4, 3), batch_norm(), relu, flatten,
                                dense(5), batch_norm(1e-3f, 0.2f).named("head_bn"));
static_assert(bn_model.parameter_tensor_count() == 8 && bn_model.buffer_tensor_count() == 6);
// conv 3*4*3*3 + 4, bn 4 + 4, dense (4*6*6)*5 + 5, bn 5 + 5.
static_assert(bn_model.parameter_count() == (108 + 4) + (4 + 4) + (720 + 5) + (5 + 5));
static_assert(bn_model.buffer_count() == (4 + 4 + 1) + (5 + 5 + 1));
constexpr auto bn_table = bn_model.parameter_table();
static_assert(bn_table[2].name == Label("bn1.weight") && bn_table[2].shape == shape(4) &&
              bn_table[2].init == Init::constant && bn_table[2].init_value == 1.0f &&
              bn_table[2].offset == 112 && bn_table[2].role == ParameterRole::weight);
static_assert(bn_table[3].name == Label("bn1.bias") && bn_table[3].init == Init::zeros);
static_assert(bn_table[7].name == Label("head_bn.bias") && bn_table[7].offset == 112 + 8 + 725 + 5);
static_assert(bn_table[8].name == Label("bn1.running_mean") && bn_table[8].offset == 0 &&
              bn_table[8].role == ParameterRole::running_mean && bn_table[8].init == Init::zeros);
static_assert(bn_table[9].name == Label("bn1.running_var") && bn_table[9].offset == 4 &&
              bn_table[9].init == Init::constant && bn_table[9].init_value == 1.0f);
static_assert(bn_table[10].name == Label("bn1.num_batches_tracked") && bn_table[10].offset == 8 &&
              bn_table[10].shape == Shape{} && bn_table[10].size() == 1);
static_assert(bn_table[11].name == Label("head_bn.running_mean") && bn_table[11].offset == 9 &&
              bn_table[11].shape == shape(5));
static_assert(bn_table[13].name == Label("head_bn.num_batches_tracked") && bn_table[13].offset == 19);
static_assert(bn_table[14].node == -1);
// dropout and normalize own nothing.
static_assert(model("t", input(3, 4, 4), normalize({0.5f}, {0.2f}), dropout(0.1f)).parameter_count() == 0);

TEST_CASE("dsl parameters: a view splits learned tensors from buffers") {
  static constexpr auto m = bn_model;
  const ModelView v = view_of<m>();
  CHECK(v.parameters.size() == 8);
  CHECK(v.buffers.size() == 6);
  CHECK(v.buffer_count == 20);
  REQUIRE(v.buffers_of(2).size() == 3);
  CHECK(v.buffers_of(2)[1].name == Label("bn1.running_var"));
  REQUIRE(v.parameters_of(2).size() == 2);
  CHECK(v.parameters_of(2)[0].name == Label("bn1.weight"));
  CHECK(v.buffers_of(1).empty());
}
}  // namespace
