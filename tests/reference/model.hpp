// A kiln node, or a whole kiln model, evaluated with the double references of ops.hpp:
// the oracle for lowered ops and for whole models through their schedules. Reads the
// DSL's node records and parameter table; knows nothing of Halide.
#pragma once
#include "dsl/kiln.hpp"
#include "reference/attention.hpp"
#include "reference/normalization.hpp"
#include "reference/ops.hpp"
#include "reference/recurrent.hpp"
#include "reference/upsampling.hpp"

namespace kiln::reference {

inline Window window_of(const Node& n) {
  return {n.kernel_h, n.kernel_w, n.stride_h, n.stride_w, n.pad_h, n.pad_w, n.dilation_h,
          n.dilation_w};
}

// Training (batch statistics, dropout drawn from `seed`) or inference; and the recurrent
// state a window starts from, {N, S} (carried_state, dsl/layers.hpp; nullptr: zeros).
struct Mode {
  bool training = true;
  uint32_t seed = 0;
  const Tensor* carried = nullptr;
};

// The value of a node that is not a loss, from its inputs (batch first) and the tensors
// it owns in table order, in PyTorch layout: conv2d and dense weight and bias, prelu its
// weight, batch_norm weight, bias, running_mean, running_var (and the count), embedding
// its table, rnn / lstm / gru weight_ih, weight_hh, bias_ih, bias_hh (attention_lstm then
// key.weight). `initial`: a recurrent layer's own rows of the carried state {N, rows}.
inline Tensor forward(const Node& node, const std::vector<const Tensor*>& in,
                      const std::vector<Tensor>& owned, Mode mode = {}, const Tensor* initial = nullptr) {
  const Tensor* weight = owned.size() > 0 ? &owned[0] : nullptr;
  const Tensor* bias = owned.size() > 1 ? &owned[1] : nullptr;
  switch (node.op) {
    case Op::conv2d: return conv2d(*in[0], *weight, bias, window_of(node), node.groups);
    case Op::conv_transpose2d: return conv_transpose2d(*in[0], *weight, bias, window_of(node));
    case Op::upsample_bilinear: return upsample_bilinear(*in[0], node.stride_h);
    case Op::max_pool: return max_pool(*in[0], window_of(node));
    case Op::avg_pool: return avg_pool(*in[0], window_of(node));
    case Op::dense:
      return in[0]->shape.size() == 3 ? sequence_dense(*in[0], *weight, bias) : dense(*in[0], *weight, bias);
    case Op::embedding: return embedding(*in[0], *weight);
    case Op::one_hot: return one_hot(*in[0], node.vocabulary);
    case Op::rnn:
    case Op::lstm:
    case Op::gru: {
      const Cell cell = node.op == Op::rnn ? Cell::rnn : node.op == Op::lstm ? Cell::lstm : Cell::gru;
      return recurrent(cell, *in[0], owned[0], owned[1], owned[2], owned[3], node.last_step, initial);
    }
    case Op::attention_lstm:
      return attention_lstm(*in[0], *in[1], owned[0], owned[1], owned[2], owned[3], owned[4]);
    case Op::coordinates: return coordinates(*in[0]);
    case Op::affine_sample: return affine_sample(*in[0], *in[1], node.shape.height(), node.shape.width());
    case Op::flatten: return flatten(*in[0]);
    case Op::relu: return relu(*in[0]);
    case Op::sigmoid: return sigmoid(*in[0]);
    case Op::tanh: return tanh(*in[0]);
    case Op::leaky_relu: return leaky_relu(*in[0], node.alpha);
    case Op::elu: return elu(*in[0], node.alpha);
    case Op::prelu: return prelu(*in[0], *weight);
    case Op::global_avg_pool: return global_avg_pool(*in[0]);
    case Op::batch_norm: {
      if (mode.training) {
        const ChannelStatistics s = channel_statistics(*in[0]);
        return batch_norm(*in[0], *weight, *bias, s.mean, s.biased_var, node.epsilon);
      }
      return batch_norm(*in[0], *weight, *bias, owned[2].data, owned[3].data, node.epsilon);
    }
    case Op::dropout:
      return mode.training ? dropout(*in[0], node.alpha, mode.seed, node.name.view()) : *in[0];
    case Op::normalize:
      return normalize(*in[0], {node.channel_mean.begin(), node.channel_mean.begin() + node.channel_values},
                       {node.channel_std.begin(), node.channel_std.begin() + node.channel_values});
    case Op::maxout: return maxout(*in[0], node.groups);
    case Op::add: return add(*in[0], *in[1]);
    case Op::concat: return concat(in);
    case Op::input:
    case Op::softmax_cross_entropy: break;
  }
  throw std::invalid_argument("reference::forward: no value for this op");
}

// Parameter p of a model, cut out of the flat buffer (in its storage order), in its
// PyTorch shape and order.
inline Tensor parameter(const Parameter& p, const std::vector<double>& flat) {
  Tensor t(std::vector<int>(p.shape.dims, p.shape.dims + p.shape.rank));
  gather_from_storage(p, flat.data(), t.data.data());
  return t;
}

// Every node's value for flat parameters, a batch (N, input shape...), labels and, for a
// captioner, its words {N, T, 1}; the loss node's value is `loss` (NaN for a model
// without one).
struct ModelValues {
  std::vector<Tensor> nodes;
  double loss = std::numeric_limits<double>::quiet_NaN();
};
inline ModelValues evaluate(const ModelView& model, const std::vector<double>& params,
                            const std::vector<double>& buffers, const Tensor& input,
                            const std::vector<int>& labels, Mode mode, const Tensor* words = nullptr) {
  ModelValues v;
  v.nodes.resize(model.nodes.size());
  v.nodes[0] = input;
  for (std::size_t i = 1; i < model.nodes.size(); ++i) {
    const Node& node = model.nodes[i];
    if (node.op == Op::input) {  // a decoder's words
      if (!words) throw std::invalid_argument("reference::evaluate: the model reads words; none were given");
      v.nodes[i] = *words;
      continue;
    }
    std::vector<const Tensor*> in;
    for (int k = 0; k < node.input_count(); ++k) in.push_back(&v.nodes[node.inputs[k]]);
    if (is_loss(node.op)) {  // labels [N], [N, T] for per-step logits, [N, H, W] per pixel
      v.loss = in[0]->shape.size() == 4   ? pixel_cross_entropy(*in[0], labels)
               : in[0]->shape.size() == 3 ? sequence_cross_entropy(*in[0], labels)
                                          : softmax_cross_entropy(*in[0], labels);
      continue;
    }
    std::vector<Tensor> owned;
    for (const Parameter& q : model.parameters_of(int(i))) owned.push_back(parameter(q, params));
    for (const Parameter& q : model.buffers_of(int(i))) owned.push_back(parameter(q, buffers));
    Tensor initial;  // the node's rows of the carried state
    const int rows = carried_rows(node);
    if (mode.carried && rows > 0) {
      const int N = mode.carried->dim(0), first = carried_offset(model.nodes, int(i));
      initial = Tensor({N, rows});
      for (int n = 0; n < N; ++n)
        for (int j = 0; j < rows; ++j) initial.at(n, j) = mode.carried->at(n, first + j);
    }
    v.nodes[i] = forward(node, in, owned, mode, mode.carried && rows > 0 ? &initial : nullptr);
  }
  return v;
}
// A model without buffers, in training mode with seed 0.
inline ModelValues evaluate(const ModelView& model, const std::vector<double>& params,
                            const Tensor& input, const std::vector<int>& labels, const Tensor* words = nullptr) {
  return evaluate(model, params, {}, input, labels, Mode{}, words);
}


}  // namespace kiln::reference
