#include "generators/graph.hpp"

namespace kiln::gen {
using namespace Halide;

namespace {

// A Func that is the sum of several same-shaped contributions (a node read by several
// consumers receives the sum of their adjoints).
Func sum_of(const std::vector<Func>& parts, Shape s, const std::string& name) {
  if (parts.size() == 1) return parts[0];
  const std::vector<Var> args = dims().of(s);
  Expr total = parts[0](args);
  for (std::size_t k = 1; k < parts.size(); ++k) total += parts[k](args);
  Func f(name);
  f(args) = total;
  return f;
}

}  // namespace

Knobs conv_lowerings_of(std::string_view text, const ModelView& model) {
  Knobs out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    auto bad = [&](const std::string& why) {
      return std::invalid_argument("kiln: conv_lowerings: '" + std::string(entry) + "': " + why);
    };
    const std::size_t eq = entry.find(':');
    if (eq == std::string_view::npos) throw bad("expected layer:lowering");
    const std::string_view layer = entry.substr(0, eq), name = entry.substr(eq + 1);
    const Node* node = nullptr;
    for (const Node& n : model.nodes)
      if (n.name.view() == layer) node = &n;
    if (!node) throw bad("the model " + std::string(model.name) + " has no layer of that name");
    if (node->op != Op::conv2d) throw bad("not a conv2d layer");
    const std::optional<ConvLowering> l = lowering_named(name);
    if (!l) throw bad("unknown lowering (direct, im2col, winograd)");
    if (*l == ConvLowering::winograd && !winograd_applies(*node))
      throw bad("winograd lowers 3x3 convs of stride 1, dilation 1 and one group only");
    out[std::string(layer)]["lowering"] = std::string(name);
  }
  return out;
}

LoweredModel lower_model(const ModelView& model, const ModelInputs& inputs, bool training) {
  const Func &params = inputs.params, &input = inputs.input, &labels = inputs.labels;
  const Expr batch = inputs.batch;
  const auto& d = dims();
  LoweredModel m;
  m.nodes.resize(model.nodes.size());
  const Shape in_shape = model.input_shape();
  const std::vector<Var> in_args = d.of(in_shape);

  // The batch is read with n clamped, so schedules may round loops over n up freely.
  std::vector<Expr> clamped(in_args.begin(), in_args.end());
  clamped.back() = clamp(d.n, 0, batch - 1);
  Func staged("input_staged");
  staged(in_args) = input(clamped);
  m.nodes[0]["out"] = staged;

  m.ctx.batch = batch;
  m.ctx.training = training;
  m.ctx.seed = inputs.seed;
  m.ctx.knobs = inputs.knobs;
  const SideInput side = side_input(model);
  if (side.kind != SideKind::none) {  // read with n clamped, as the batch is
    Func staged_side(std::string(side.name()) + "_clamped");
    staged_side(d.i, d.t, d.n) = inputs.side(d.i, d.t, clamp(d.n, 0, batch - 1));
    if (side.kind == SideKind::regions) m.ctx.rois = staged_side;
    else m.nodes[side.node]["out"] = staged_side;  // the words node's value
  }
  // Each target_loss's targets: with heads(...), its head's slice of the joined targets.
  std::map<int, Func> targets_of;
  if (model.loss_node >= 0 && uses_targets(model)) {  // float targets(shape..., plane, n)
    std::vector<Var> at = d.targets_of(model.output_shape());
    std::vector<Expr> clamped_n(at.begin(), at.end());
    clamped_n.back() = clamp(d.n, 0, batch - 1);
    Func targets("targets_clamped");
    targets(at) = labels(clamped_n);
    const Node& out = model.nodes[model.output_node];
    if (out.op != Op::heads) targets_of[model.loss_node] = targets;
    long long begin = 0;
    for (int k = 0; out.op == Op::heads && k < out.input_count(); ++k) {
      const Shape s = model.nodes[out.inputs[k]].shape;
      int loss = 0;  // the head's target_loss (shape inference made sure there is one)
      while (!(is_loss(model.nodes[loss].op) && model.nodes[loss].inputs[0] == out.inputs[k])) ++loss;
      const std::vector<Var> args = d.targets_of(s);
      const std::vector<Expr> element(args.begin(), args.end() - 2);
      Func slice(func_name(model.nodes[loss].name, "targets"));
      slice(args) = targets(Expr(int(begin)) + flat_index(s, element), args[args.size() - 2], d.n);
      targets_of[loss] = slice;
      begin += s.elements();
    }
  } else if (model.loss_node >= 0) {  // one label per position of the logits: labels(n), (t, n), (x, y, n)
    const Shape out = model.output_shape();
    std::vector<Var> at = d.positions(out);
    std::vector<Expr> clamped_n(at.begin(), at.end());
    clamped_n.back() = clamp(d.n, 0, batch - 1);
    Func lab("labels_clamped");
    lab(at) = clamp(labels(clamped_n), 0, class_count(out) - 1);
    m.ctx.labels = lab;
  }

  // The context node i is lowered in: a target_loss sees its own targets.
  auto context_of = [&](int i) {
    Context c = m.ctx;
    if (targets_of.count(i)) c.targets = targets_of.at(i);
    return c;
  };
  auto tensors_in = [&](int i) {
    std::vector<Tensor> in;
    const Node& node = model.nodes[i];
    for (int k = 0; k < node.input_count(); ++k)
      in.push_back({m.nodes[node.inputs[k]]["out"], model.nodes[node.inputs[k]].shape});
    return in;
  };
  std::vector<std::vector<Func>> views(model.nodes.size());
  for (std::size_t i = 1; i < model.nodes.size(); ++i) {
    for (const Parameter& p : model.parameters_of(int(i))) views[i].push_back(parameter_view(params, p));
    for (const Parameter& p : model.buffers_of(int(i))) views[i].push_back(parameter_view(inputs.buffers, p));
    if (carried_rows(model.nodes[i]) > 0) {  // its slice of the carried state, n clamped
      Func initial(func_name(model.nodes[i].name, "initial"));
      const int first = carried_offset(model.nodes, int(i));
      initial(d.i, d.n) = inputs.state.defined() ? inputs.state(first + d.i, clamp(d.n, 0, batch - 1)) : Expr(0.0f);
      m.nodes[i]["initial"] = initial;
    }
    lower_forward(model.nodes[i], tensors_in(int(i)), views[i], context_of(int(i)), m.nodes[i]);
  }
  m.output = m.nodes[model.output_node]["out"];
  if (const int rows = carried_state(model); rows > 0) {  // each layer's state after its last step
    Func state_out("state_out");
    state_out(d.i, d.n) = 0.0f;
    for (std::size_t i = 1; i < model.nodes.size(); ++i) {
      const Node& node = model.nodes[i];
      if (carried_rows(node) == 0) continue;
      RDom r(0, carried_rows(node), func_name(node.name, "r_state"));
      const int steps = model.nodes[node.inputs[0]].shape[0];  // states: step 0 the start, step T the end
      state_out(carried_offset(model.nodes, int(i)) + r, d.n) = m.nodes[i]["states"](r, d.n, steps);
    }
    m.state_out = state_out;
  }
  if (targets_of.size() > 1) {  // the heads' target_losses: their sum
    Expr total = 0.0f;
    for (const auto& [i, targets] : targets_of) total += m.nodes[i]["out"]();
    m.loss = Func("loss_total");
    m.loss() = total;
  } else if (model.loss_node >= 0) {
    m.loss = m.nodes[model.loss_node]["out"];
  }
  if (!training) return m;

  // The buffers a training batch moves (batch norm's running statistics); the rest
  // pass through.
  static const std::map<ParameterRole, std::string> new_value_of{
      {ParameterRole::running_mean, "running_mean_new"},
      {ParameterRole::running_var, "running_var_new"},
      {ParameterRole::batches_tracked, "batches_tracked_new"}};
  Func buffers_out("buffers_out");
  buffers_out(d.i) = inputs.buffers(d.i);
  for (const Parameter& p : model.buffers)
    scatter_parameter(buffers_out, m.nodes[p.node][new_value_of.at(p.role)], p);
  m.buffers_out = buffers_out;
  if (model.loss_node < 0) return m;

  // Reverse topological order: a node's adjoint is complete once all its consumers ran.
  std::vector<std::vector<Func>> contributions(model.nodes.size());
  for (int i = int(model.nodes.size()) - 1; i >= 1; --i) {
    const Node& node = model.nodes[i];
    NodeFuncs& f = m.nodes[i];
    if (!is_loss(node.op)) {
      if (contributions[i].empty()) continue;  // nothing downstream needs it
      f["d_out"] = sum_of(contributions[i], node.shape, func_name(node.name, "d_out"));
      if (contributions[i].size() > 1) f["d_out_sum"] = f["d_out"];
    }
    lower_adjoint(node, tensors_in(i), views[i], context_of(i), f);
    for (int k = 0; k < node.input_count(); ++k)
      contributions[node.inputs[k]].push_back(f["d_in" + std::to_string(k)]);
  }
  m.grad_input = sum_of(contributions[0], in_shape, "grad_input");
  m.grad_input_is_sum = contributions[0].size() > 1;

  Func grad("grad_params");
  grad(d.i) = 0.0f;
  static const std::map<ParameterRole, std::string> gradient_of{
      {ParameterRole::weight, "d_weight"},       {ParameterRole::bias, "d_bias"},
      {ParameterRole::weight_ih, "d_weight_ih"}, {ParameterRole::weight_hh, "d_weight_hh"},
      {ParameterRole::bias_ih, "d_bias_ih"},     {ParameterRole::bias_hh, "d_bias_hh"},
      {ParameterRole::key_weight, "d_key_weight"}};
  for (const Parameter& p : model.parameters) scatter_parameter(grad, m.nodes[p.node][gradient_of.at(p.role)], p);
  m.grad_params = grad;
  return m;
}

namespace {
// An image Func with its dims in another order: view(to) = f(from); flat ones as they are.
Func image_view(const Func& f, Shape s, const char* name, const std::vector<Var>& to,
                const std::vector<Var>& from) {
  if (!s.is_image()) return f;
  Func view(name);
  view(to) = f(from);
  return view;
}
}  // namespace

Func nchw_view(const Func& input, Shape s) {
  const auto& d = dims();
  return image_view(input, s, "input_nchw_view", {d.x, d.y, d.c, d.n}, {d.c, d.x, d.y, d.n});
}

Func channels_last(const Func& out, Shape s) {
  const auto& d = dims();
  return image_view(out, s, "output_channels_last", {d.c, d.x, d.y, d.n}, {d.x, d.y, d.c, d.n});
}

}  // namespace kiln::gen
