// The kiln DSL in one include. Header-only, constexpr, no Halide.
#pragma once
#include "dsl/model.hpp"
#include "dsl/model_view.hpp"
