// What every op lowering shares: the activation layout, the Funcs one node produces,
// and views of parameters inside the flat parameter buffer.
//
// Activations are Halide Funcs over one sample's dims, innermost first, then the batch:
//   images (C, H, W) -> f(x, y, c, n)      flat (F) -> f(i, n)
//   sequences (T, F) -> f(i, t, n)
// so that PyTorch's NCHW memory order is Halide's default order. The storage order
// (e.g. batch innermost) is the schedule's business, never the algorithm's.
#pragma once
#include "dsl/kiln.hpp"
#include "tune/knobs.hpp"

#include <Halide.h>

#include <map>
#include <optional>
#include <string_view>
#include <span>
#include <string>
#include <vector>

namespace kiln::gen {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;
using Halide::Var;

// The Vars every activation Func is defined over.
struct Dims {
  Var x{"x"}, y{"y"}, c{"c"}, i{"i"}, t{"t"}, n{"n"};
  // The argument list of an activation of per-sample shape s.
  std::vector<Var> of(Shape s) const;
  // The arguments of target_loss's targets for outputs of shape s: of(s) with a Var
  // "plane" before n (PyTorch's [N, 2, shape]: 0 the target values, 1 their weights).
  std::vector<Var> targets_of(Shape s) const;
  // Where logits of per-sample shape s have one label each, as label_shape(s) says:
  // (n) for flat logits, (t, n) per step, (x, y, n) per pixel.
  std::vector<Var> positions(Shape logits) const;
};
const Dims& dims();

// An activation: its Func and its per-sample shape.
struct Tensor {
  Func f;
  Shape shape;
};

// The knobs a tuner chose per layer, and a conv's lowering among them (tune/knobs.hpp):
// the lowering reads a conv's "lowering"; the schedules read the rest.
using tune::ConvLowering;
using tune::Knobs;
using tune::knob;
using tune::lowering_name;
using tune::lowering_named;
using tune::winograd_applies;

// What the whole lowering shares.
struct Context {
  Expr batch;   // run-time batch size N
  Func labels;  // labels(Dims::positions(logits)), int32, clamped to a valid class
  Func targets;  // targets(Dims::targets_of(output)), float: target_loss's values and weights
  Func rois;     // rois(k, r, n), float: the region layers' regions, corner k of region r (x0, y0, x1, y1)
  // Training (gradients, train_step): batch norm uses batch statistics and updates its
  // running ones, dropout drops. Inference (forward): running statistics, no dropout.
  bool training = false;
  Expr seed = 0;  // int32: dropout's draw (dropout.cpp)
  Knobs knobs;
  ConvLowering lowering_of(const Node& conv) const;  // its "lowering" knob; direct by rule
};

// Everything one node lowers to. Schedules find Funcs by role:
//   forward:  "out" (the node's value) plus op-specific helpers ("padded", "out_acc", ...)
//   adjoint:  "d_out" (summed over consumers; also "d_out_sum" when there are several),
//             "d_in0".."d_in3", "d_weight", "d_bias",
//             plus op-specific helpers
struct NodeFuncs {
  std::map<std::string, Func> funcs;
  Func& operator[](const std::string& role) { return funcs[role]; }
  bool has(const std::string& role) const { return funcs.count(role) != 0; }
};

// PyTorch's flat order of one sample's elements ((C, H, W) and (T, F) row-major): the
// flat index of the element at arguments `a` (Dims::of(s) without n), and the arguments
// of flat element j.
Expr flat_index(Shape s, const std::vector<Expr>& a);
std::vector<Expr> element_at(Shape s, Expr j);

// A Halide Func name for a layer or parameter name and a role: "conv1.weight" ->
// "conv1_weight", ("conv1", "acc") -> "conv1_acc". Halide reserves '.' in names.
std::string func_name(const Label& name, std::string_view role = {});

// out(args) = init + sum over the RDoms in `term` of term, with the sum in a Func of its
// own: f[role] = out and f[role + "_acc"] = the accumulator, which a schedule holds in
// registers per tile of out.
void accumulate(NodeFuncs& f, const std::string& role, const std::string& name,
                const std::vector<Var>& args, Expr init, Expr term);

// A parameter tensor seen through the flat buffer, dims innermost first: a conv weight
// [O, C, KH, KW] becomes w(kx, ky, ci, co); a dense weight [O, F] becomes w(i, o).
Func parameter_view(const Func& flat, const Parameter& p);

// The d_param Func of a parameter written back into a flat buffer: one update of
// `flat` per parameter, over that parameter's range.
void scatter_parameter(Func& flat, const Func& d_param, const Parameter& p);

// Forward and adjoint of one node. `in` holds its inputs' tensors, `params` views of
// its parameters (weight, bias) then its buffers, in table order. The adjoint reads f["out"] and
// f["d_out"] and fills f["d_in<k>"], f["d_weight"], f["d_bias"].
void lower_forward(const Node& node, std::span<const Tensor> in, std::span<const Func> params,
                   const Context& ctx, NodeFuncs& f);
void lower_adjoint(const Node& node, std::span<const Tensor> in, std::span<const Func> params,
                   const Context& ctx, NodeFuncs& f);

}  // namespace kiln::gen
