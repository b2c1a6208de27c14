// A whole model lowered to Halide: the forward pass, and on request the adjoint pass
// and the flat gradient buffer. The entries (entries.hpp) pick their outputs from it.
#pragma once
#include "generators/lowering.hpp"

namespace kiln::gen {

struct LoweredModel {
  std::vector<NodeFuncs> nodes;  // one per model node, same index
  Context ctx;
  Func output;       // forward(): model outputs, e.g. logits(k, n)
  Func loss;         // loss(), when the model has a loss
  Func grad_params;  // grad_params(j), the flat gradient, when lowered with adjoints
  Func grad_input;   // d loss / d input, same dims as the input
  bool grad_input_is_sum = false;  // the input feeds several nodes: a Func of its own
  Func buffers_out;  // buffers_out(j): the buffers after a training step's batch
  // state_out(j, n): the recurrent state after the window (carried_state, dsl/layers.hpp),
  // for models with rnn, lstm or gru layers.
  Func state_out;
};

// What the model is lowered from: params(j) the flat parameter buffer, buffers(j) the
// flat buffer of buffers, input the batch (dims of input_shape + n), labels(n) int32
// class labels, labels(t, n) for per-step logits, labels(x, y, n) per pixel, or for a
// target_loss float targets (Dims::targets_of the output) (ignored without a loss),
// batch the run-time N, seed dropout's draw, side what the batch carries beside the
// input (SideInput, dsl/layers.hpp).
struct ModelInputs {
  Func params, buffers, input, labels;
  Expr batch, seed;
  // side(k, r, n): the region layers' regions, corner k of region r; or side(0, t, n): a
  // decoder's words so far, token ids as floats. Undefined for models without.
  Func side;
  // state(j, n): the recurrent state the window starts from (carried_state); undefined:
  // zeros.
  Func state;
  Knobs knobs = {};  // the tuned knobs per layer (a record's, conv_lowerings_of's)
};

// The conv lowerings a text asks for, "layer:lowering,layer:lowering" (empty: every conv
// direct), as "lowering" knobs. std::invalid_argument naming the entry for a malformed
// entry, a layer the model lacks or that is not a conv2d, an unknown lowering, or
// winograd where it does not apply.
Knobs conv_lowerings_of(std::string_view text, const ModelView& model);

// Training lowers batch statistics, dropout, the adjoints, the flat gradient and the
// new buffers; inference only the forward pass, with running statistics.
LoweredModel lower_model(const ModelView& model, const ModelInputs& in, bool training);

// Channels-last forward entries: the input batch and the output, where they are images,
// in PyTorch's channels_last memory order (Halide dims c, x, y, n); flat ones as they
// are. `input` as the (x, y, c, n) Func lower_model reads:
Func nchw_view(const Func& input, Shape s);
// and the model's (x, y, c, n) output as a (c, x, y, n) Func:
Func channels_last(const Func& out, Shape s);

}  // namespace kiln::gen
