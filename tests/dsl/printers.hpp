// How Catch2 prints DSL values when a CHECK fails: shapes as (C, H, W), problems by
// name, rather than "{?}" or an enum's raw byte.
#pragma once
#include <catch2/catch.hpp>

#include <string>

#include "dsl/kiln.hpp"

namespace Catch {

template <>
struct StringMaker<kiln::Shape> {
  static std::string convert(const kiln::Shape& s) {
    std::string out = "(";
    for (int i = 0; i < s.rank; ++i) out += (i ? ", " : "") + std::to_string(s.dims[i]);
    return out + ")";
  }
};

template <>
struct StringMaker<kiln::Label> {
  static std::string convert(const kiln::Label& l) { return '"' + std::string(l.view()) + '"'; }
};

template <>
struct StringMaker<kiln::Problem> {
  static std::string convert(kiln::Problem p) {
    using enum kiln::Problem;
    switch (p) {
      case none: return "none";
      case first_layer_must_be_input: return "first_layer_must_be_input";
      case input_only_as_first_layer: return "input_only_as_first_layer";
      case missing_input: return "missing_input";
      case conv2d_expects_an_image: return "conv2d_expects_an_image";
      case pool_expects_an_image: return "pool_expects_an_image";
      case global_avg_pool_expects_an_image: return "global_avg_pool_expects_an_image";
      case window_larger_than_padded_input: return "window_larger_than_padded_input";
      case pool_padding_over_half_the_window: return "pool_padding_over_half_the_window";
      case channels_not_divisible_by_groups: return "channels_not_divisible_by_groups";
      case maxout_channels_not_divisible: return "maxout_channels_not_divisible";
      case dense_expects_a_flat_input: return "dense_expects_a_flat_input";
      case loss_expects_flat_logits: return "loss_expects_flat_logits";
      case loss_must_be_last: return "loss_must_be_last";
      case add_inputs_differ: return "add_inputs_differ";
      case concat_needs_images_of_one_size: return "concat_needs_images_of_one_size";
      case non_positive_size: return "non_positive_size";
      case duplicate_name: return "duplicate_name";
    }
    return "Problem(" + std::to_string(int(p)) + ")";
  }
};

template <>
struct StringMaker<kiln::ShapeError> {
  static std::string convert(const kiln::ShapeError& e) {
    return StringMaker<kiln::Problem>::convert(e.problem) + " at layer " +
           std::to_string(e.layer) + " " + StringMaker<kiln::Label>::convert(e.name) +
           ", got " + StringMaker<kiln::Shape>::convert(e.got) + ", other " +
           StringMaker<kiln::Shape>::convert(e.other);
  }
};

}  // namespace Catch
