// One forward/adjoint pair per op family; lowering.cpp dispatches on Node::op.
// Each .cpp here opens with the op's contract: shapes, parameters, formula.
#pragma once
#include "generators/lowering.hpp"

namespace kiln::gen::ops {

// b (and dense's b) is an undefined Func for a layer built with no_bias.
void conv2d_forward(const Node&, const Tensor& in, const Func& w, const Func& b, ConvLowering, NodeFuncs&);
void conv2d_adjoint(const Node&, const Tensor& in, const Func& w, const Context&, ConvLowering, NodeFuncs&);

// conv_transpose2d, upsample_bilinear (upsample.cpp).
void conv_transpose2d_forward(const Node&, const Tensor& in, const Func& w, const Func& b, NodeFuncs&);
void conv_transpose2d_adjoint(const Node&, const Tensor& in, const Func& w, const Context&, NodeFuncs&);
void upsample_bilinear_forward(const Node&, const Tensor& in, NodeFuncs&);
void upsample_bilinear_adjoint(const Node&, const Tensor& in, NodeFuncs&);

void pool_forward(const Node&, const Tensor& in, NodeFuncs&);
void pool_adjoint(const Node&, const Tensor& in, NodeFuncs&);

void dense_forward(const Node&, const Tensor& in, const Func& w, const Func& b, NodeFuncs&);
void dense_adjoint(const Node&, const Tensor& in, const Func& w, const Context&, NodeFuncs&);

void flatten_forward(const Node&, const Tensor& in, NodeFuncs&);
void flatten_adjoint(const Node&, const Tensor& in, NodeFuncs&);

void activation_forward(const Node&, const Tensor& in, NodeFuncs&);
void activation_adjoint(const Node&, const Tensor& in, NodeFuncs&);

void prelu_forward(const Node&, const Tensor& in, const Func& w, NodeFuncs&);
void prelu_adjoint(const Node&, const Tensor& in, const Func& w, const Context&, NodeFuncs&);

void global_avg_pool_forward(const Node&, const Tensor& in, NodeFuncs&);
void global_avg_pool_adjoint(const Node&, const Tensor& in, NodeFuncs&);

void batch_norm_forward(const Node&, const Tensor& in, std::span<const Func> params_and_buffers,
                        const Context&, NodeFuncs&);
void batch_norm_adjoint(const Node&, const Tensor& in, std::span<const Func> params_and_buffers,
                        const Context&, NodeFuncs&);

void dropout_forward(const Node&, const Tensor& in, const Context&, NodeFuncs&);
void dropout_adjoint(const Node&, const Tensor& in, NodeFuncs&);

void normalize_forward(const Node&, const Tensor& in, NodeFuncs&);
void normalize_adjoint(const Node&, const Tensor& in, NodeFuncs&);
void maxout_forward(const Node&, const Tensor& in, NodeFuncs&);
void maxout_adjoint(const Node&, const Tensor& in, NodeFuncs&);

void merge_forward(const Node&, std::span<const Tensor> in, NodeFuncs&);
void merge_adjoint(const Node&, std::span<const Tensor> in, NodeFuncs&);
// heads' join: the inputs flattened and joined (forward only: it ends the model).
void heads_forward(const Node&, std::span<const Tensor> in, NodeFuncs&);

// embedding and one_hot (w: embedding's table; undefined for one_hot).
void embedding_forward(const Node&, const Tensor& in, const Func& w, NodeFuncs&);
void embedding_adjoint(const Node&, const Tensor& in, const Context&, NodeFuncs&);
// rnn, lstm, gru: params holds w_ih, w_hh, b_ih, b_hh.
void recurrent_forward(const Node&, const Tensor& in, std::span<const Func> params, NodeFuncs&);
void recurrent_adjoint(const Node&, const Tensor& in, std::span<const Func> params,
                       const Context&, NodeFuncs&);

void softmax_cross_entropy_forward(const Tensor& logits, const Context&, NodeFuncs&);
void softmax_cross_entropy_adjoint(const Tensor& logits, const Context&, NodeFuncs&);
// roi_align, roi_pool (regions.cpp): the regions come from ctx.rois.
void roi_align_forward(const Node&, const Tensor& in, const Context&, NodeFuncs&);
void roi_align_adjoint(const Node&, const Tensor& in, const Context&, NodeFuncs&);
void roi_pool_forward(const Node&, const Tensor& in, const Context&, NodeFuncs&);
void roi_pool_adjoint(const Node&, const Tensor& in, const Context&, NodeFuncs&);
void target_loss_forward(const Node&, const Tensor& in, const Context&, NodeFuncs&);
// attention_lstm (attention.cpp): the embedded words, the grid; params w_ih, w_hh, b_ih,
// b_hh, key.weight.
void attention_lstm_forward(const Node&, const Tensor& words, const Tensor& grid, std::span<const Func> params,
                            NodeFuncs&);
void attention_lstm_adjoint(const Node&, const Tensor& words, const Tensor& grid, std::span<const Func> params,
                            const Context&, NodeFuncs&);
// coordinates (spatial.cpp).
void coordinates_forward(const Node&, const Tensor& in, NodeFuncs&);
void coordinates_adjoint(const Node&, const Tensor& in, NodeFuncs&);
// affine_sample (spatial.cpp): the image, then the 6 offsets of the affine map.
void affine_sample_forward(const Node&, const Tensor& in, const Tensor& offsets, NodeFuncs&);
void affine_sample_adjoint(const Node&, const Tensor& in, const Tensor& offsets, NodeFuncs&);
void target_loss_adjoint(const Node&, const Tensor& in, const Context&, NodeFuncs&);

// in(x, y, c, n) with `outside` beyond its H x W: the padding of a convolution or
// pooling window. For a node without padding it is a plain alias of in.
Func pad_spatial(const Tensor& in, Expr outside, const Node& node, const std::string& name);

}  // namespace kiln::gen::ops
