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
  std::span<const Parameter> parameters;  // the used slots of the parameter table
  int output_node = -1;
  int loss_node = -1;
  long long parameter_count = 0;

  Shape input_shape() const { return nodes[0].shape; }
  Shape output_shape() const { return nodes[output_node].shape; }
  // The parameters owned by node i, in table order (weight, then bias).
  std::span<const Parameter> parameters_of(int i) const {
    std::size_t first = 0;
    while (first < parameters.size() && parameters[first].node != i) ++first;
    std::size_t last = first;
    while (last < parameters.size() && parameters[last].node == i) ++last;
    return parameters.subspan(first, last - first);
  }
};

// The view of a model variable: view_of<kiln::models::lenet5>().
template <const auto& M>
ModelView view_of() {
  static constexpr auto table = M.parameter_table();
  return ModelView{M.name.view(),
                   std::span<const Node>(M.nodes.data(), M.nodes.size()),
                   std::span<const Parameter>(table.data(), M.parameter_tensor_count()),
                   M.output_node(), M.loss_node(), M.parameter_count()};
}

}  // namespace kiln
