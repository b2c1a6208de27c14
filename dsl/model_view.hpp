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

// The regions per image of the model's region layers (roi_align, roi_pool) (Model::region_count); 0 without.
inline int region_count(const ModelView& m) {
  for (const Node& n : m.nodes)
    if (is_region_op(n.op)) return n.units;
  return 0;
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
