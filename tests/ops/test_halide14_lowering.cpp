// generators/halide14_lowering.cpp: the executable's fork_async_producers is the one
// libHalide's lowering binds, and pipelines lower to the same results with it, with
// async producers (handed to libHalide's own pass) and without.
#include <Halide.h>
#include <dlfcn.h>

#include <catch2/catch.hpp>

using namespace Halide;

namespace {

// x -> 3 * (x + 1) + x, through two root Funcs (or an async producer and its consumer).
Buffer<int> run(bool async) {
  Var x("x");
  Func a("a"), b("b");
  a(x) = x + 1;
  b(x) = 3 * a(x) + x;
  if (async) {
    Var xo("xo"), xi("xi");
    b.split(x, xo, xi, 8);
    a.compute_at(b, xo).store_root().async();
  } else {
    a.compute_root();
  }
  Buffer<int> out(64);
  out.fill(-1);
  b.realize(out);
  return out;
}

}  // namespace

TEST_CASE("halide14_lowering: the executable's fork_async_producers is the bound one", "[halide14]") {
  using Pass = Internal::Stmt (*)(Internal::Stmt, const std::map<std::string, Internal::Function>&);
  const Pass ours = &Internal::fork_async_producers;
  void* bound = dlsym(RTLD_DEFAULT,
                      "_ZN6Halide8Internal20fork_async_producersENS0_4StmtERKSt3mapINSt7__cxx1112basic_"
                      "stringIcSt11char_traitsIcESaIcEEENS0_8FunctionESt4lessIS8_ESaISt4pairIKS8_S9_EEE");
  REQUIRE(bound != nullptr);
  CHECK(reinterpret_cast<void*>(ours) == bound);
  CHECK(dlsym(RTLD_NEXT, "_ZN6Halide8Internal20fork_async_producersENS0_4StmtERKSt3mapINSt7__cxx1112basic_"
                         "stringIcSt11char_traitsIcESaIcEEENS0_8FunctionESt4lessIS8_ESaISt4pairIKS8_S9_EEE") != bound);
}

TEST_CASE("halide14_lowering: pipelines with and without async producers compute the same", "[halide14]") {
  for (bool async : {false, true}) {
    INFO("async " << async);
    const Buffer<int> out = run(async);
    for (int x = 0; x < 64; ++x) CHECK(out(x) == 3 * (x + 1) + x);
  }
}
