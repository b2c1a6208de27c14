// The kiln subcommands; each takes the arguments after its name.
#pragma once
#include <string>
#include <vector>

namespace kiln::cli {

int train(const std::vector<std::string>& args);
int eval(const std::vector<std::string>& args);
int predict(const std::vector<std::string>& args);
int forward(const std::vector<std::string>& args);
int gradients(const std::vector<std::string>& args);
int models(const std::vector<std::string>& args);

}  // namespace kiln::cli
