// dropout — inverted dropout, nn.Dropout(p); any shape, out of the same shape.
//   training:  out = keep ? in / (1 - p) : 0      d_in = keep ? d_out / (1 - p) : 0
//   inference: out = in (and no adjoint is asked of it)
// keep is a counter-based draw, the same on every target and under any schedule: for
// element e of the batch in PyTorch's row-major order (((n C + c) H + y) W + x,
// (n T + t) F + i, or n F + i), with 32-bit unsigned arithmetic,
//   key  = mix(seed ^ mix(fnv1a(layer name)))
//   u    = (mix(mix(e) ^ key) >> 8) / 2^24        in [0, 1)
//   keep = u >= p
// mix is Wellons' "lowbias32": h ^= h >> 16; h *= 0x7feb352d; h ^= h >> 15;
// h *= 0x846ca68b; h ^= h >> 16.
#include "generators/ops/ops.hpp"

namespace kiln::gen::ops {
using namespace Halide;

namespace {

Expr mix(Expr h) {
  h = h ^ (h >> 16);
  h = h * Expr(uint32_t(0x7feb352du));
  h = h ^ (h >> 15);
  h = h * Expr(uint32_t(0x846ca68bu));
  return h ^ (h >> 16);
}

uint32_t fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char ch : s) h = (h ^ uint8_t(ch)) * 16777619u;
  return h;
}

// keep(args): whether dropout keeps the element, as the contract above draws it.
Func keep_mask(const Node& node, const Tensor& in, const Context& ctx) {
  const auto& d = dims();
  const std::vector<Var> args = d.of(in.shape);
  Expr e;
  if (in.shape.is_image()) {
    const int C = in.shape.channels(), H = in.shape.height(), W = in.shape.width();
    e = ((d.n * C + d.c) * H + d.y) * W + d.x;
  } else if (in.shape.is_sequence()) {
    e = (d.n * in.shape[0] + d.t) * in.shape[1] + d.i;
  } else {
    e = d.n * in.shape[0] + d.i;
  }
  Expr layer = Expr(fnv1a(node.name.view()));
  Expr key = mix(cast<uint32_t>(ctx.seed) ^ mix(layer));
  Expr u = cast<float>(mix(mix(cast<uint32_t>(e)) ^ key) >> 8) * (1.0f / 16777216.0f);
  Func keep(func_name(node.name, "keep"));
  keep(args) = u >= node.alpha;
  return keep;
}

}  // namespace

void dropout_forward(const Node& node, const Tensor& in, const Context& ctx, NodeFuncs& f) {
  const std::vector<Var> args = dims().of(in.shape);
  Func out(func_name(node.name));
  if (!ctx.training) {
    out(args) = in.f(args);
  } else {
    Func keep = keep_mask(node, in, ctx);
    out(args) = select(keep(args), in.f(args) * (1.0f / (1.0f - node.alpha)), 0.0f);
    f["keep"] = keep;
  }
  f["out"] = out;
}

void dropout_adjoint(const Node& node, const Tensor& in, NodeFuncs& f) {
  const std::vector<Var> args = dims().of(in.shape);
  Func d_in(func_name(node.name, "d_in0"));
  d_in(args) = select(f["keep"](args), f["d_out"](args) * (1.0f / (1.0f - node.alpha)), 0.0f);
  f["d_in0"] = d_in;
}

}  // namespace kiln::gen::ops
