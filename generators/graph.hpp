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
};

// params(j): the flat parameter buffer; input: the batch, dims of input_shape + n;
// labels(n): int32 class labels (ignored without a loss); batch: the run-time N.
LoweredModel lower_model(const ModelView& model, const Func& params, const Func& input,
                         const Func& labels, Expr batch, bool with_adjoint);

}  // namespace kiln::gen
