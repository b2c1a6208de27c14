// ModelView: any Model<N> seen through one non-template type, for code that walks a
// model at build or run time (generators, the runtime, the CLI's model registry).
#pragma once
#include "dsl/model.hpp"

#include <span>
#include <string_view>

namespace kiln {

struct ModelView {
  std::string_view name;
  std::span<const Node> nodes;
  std::span<const Parameter> parameters;  // the learned tensors of the parameter table
  std::span<const Parameter> buffers;     // and its buffers (batch norm's statistics)
  int output_node = -1;
  int loss_node = -1;
  long long parameter_count = 0;  // floats in the flat parameter buffer
  long long buffer_count = 0;     // floats in the flat buffer of buffers

  Shape input_shape() const { return nodes[0].shape; }
  Shape output_shape() const { return nodes[output_node].shape; }
  // The learned tensors owned by node i, in table order (weight, then bias).
  std::span<const Parameter> parameters_of(int i) const { return owned_by(parameters, i); }
  std::span<const Parameter> buffers_of(int i) const { return owned_by(buffers, i); }

 private:
  static std::span<const Parameter> owned_by(std::span<const Parameter> table, int i) {
    std::size_t first = 0;
    while (first < table.size() && table[first].node != i) ++first;
    std::size_t last = first;
    while (last < table.size() && table[last].node == i) ++last;
    return table.subspan(first, last - first);
  }
};

// Whether the model's loss is a target_loss: its gradients and train_step take float
// targets [N, 2, output shape] where others take int32 labels.
inline bool uses_targets(const ModelView& m) {
  return m.loss_node >= 0 && m.nodes[m.loss_node].op == Op::target_loss;
}

// What the batch carries beside the input (Model::side_input): rois, words, or nothing.
inline SideInput side_input(const ModelView& m) { return side_input_of(m.nodes); }
// Floats of recurrent state per sample carried between windows (layers.hpp); 0 without.
inline int carried_state(const ModelView& m) { return carried_state_of(m.nodes); }
// The regions per image of the model's region layers (roi_align, roi_pool) (Model::region_count); 0 without.
inline int region_count(const ModelView& m) {
  const SideInput side = side_input(m);
  return side.kind == SideKind::regions ? side.rows : 0;
}

// The node whose attention the "attention" entry returns (generators/entries.hpp): the
// first attention_lstm (its weights over the grid's locations at every step) or
// affine_sample (the image it resampled); -1 for models without.
inline int attention_node(const ModelView& m) {
  for (std::size_t i = 0; i < m.nodes.size(); ++i)
    if (m.nodes[i].op == Op::attention_lstm || m.nodes[i].op == Op::affine_sample) return int(i);
  return -1;
}
// Its per-sample shape: (T, L) weights, or the resampled (C, H, W); Shape{} without.
inline Shape attention_shape(const ModelView& m) {
  const int i = attention_node(m);
  if (i < 0) return {};
  const Node& n = m.nodes[i];
  if (n.op == Op::affine_sample) return n.shape;
  const Shape grid = m.nodes[n.inputs[1]].shape;
  return shape(n.shape[0], grid.height() * grid.width());
}

// The view of a model variable: view_of<kiln::models::lenet5>().
template <const auto& M>
ModelView view_of() {
  static constexpr auto table = M.parameter_table();
  constexpr int learned = M.parameter_tensor_count(), buffers = M.buffer_tensor_count();
  return ModelView{M.name.view(),
                   std::span<const Node>(M.nodes.data(), M.nodes.size()),
                   std::span<const Parameter>(table.data(), learned),
                   std::span<const Parameter>(table.data() + learned, buffers),
                   M.output_node(), M.loss_node(), M.parameter_count(), M.buffer_count()};
}

}  // namespace kiln
