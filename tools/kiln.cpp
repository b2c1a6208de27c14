#include "runtime/registry.hpp"
#include <cstdio>
int main() { for (auto& n : kiln::model_names()) std::printf("%s\n", n.c_str()); }
