// A Halide 14 lowering pass that kiln's pipelines do not need, skipped: compiled into
// every executable that links kiln_generators (an INTERFACE source), where it takes
// the place of libHalide's own definition.
//
// Halide 14's lowering always runs fork_async_producers (src/AsyncProducers.cpp). Its
// first step, TightenProducerConsumerNodes, walks, for every produce/consume node, the
// whole statement that node encloses; a compute_root Func's consume node encloses the
// rest of the pipeline, and checks each of that statement's lets and blocks against
// the Func's name. kiln's training entries have hundreds of root Funcs whose values live
// until the backward pass, under long chains of bounds lets: building ResNet-20
// (CIFAR)'s gradients entry took 227 s, of which this pass took 166 s (seen with
// HL_DEBUG_CODEGEN=1 as the gap between "Forking asynchronous producers..." and
// "Destructuring tuple-valued realizations...", 2026-11-28); with this file, 57 s, and
// the library computes bitwise the same loss and gradients.
//
// The pass exists for Funcs scheduled async(), which kiln never uses; without them its
// other steps find nothing to do, and the tightening only moves produce/consume
// markers, which are no-ops in the generated code. So this definition returns the
// statement unchanged when no Func is async, and hands anything else to libHalide's own
// pass (found with dlsym(RTLD_NEXT)). libHalide14 calls the pass through its PLT, so
// the executable's definition is the one the dynamic linker binds.
#include <Halide.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace Halide::Internal {

Stmt fork_async_producers(Stmt s, const std::map<std::string, Function>& env) {
  bool any_async = false;
  for (const auto& [name, f] : env) any_async = any_async || f.schedule().async();
  if (!any_async) return s;
  using Pass = Stmt (*)(Stmt, const std::map<std::string, Function>&);
  static const auto original = reinterpret_cast<Pass>(dlsym(
      RTLD_NEXT,
      "_ZN6Halide8Internal20fork_async_producersENS0_4StmtERKSt3mapINSt7__cxx1112basic_"
      "stringIcSt11char_traitsIcESaIcEEENS0_8FunctionESt4lessIS8_ESaISt4pairIKS8_S9_EEE"));
  if (!original) {
    std::fprintf(stderr, "kiln: libHalide's fork_async_producers not found: %s\n", dlerror());
    std::abort();
  }
  return original(std::move(s), env);
}

}  // namespace Halide::Internal
