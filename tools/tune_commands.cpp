// kiln tune MODEL: searches the knobs a schedule policy declares (tune/knobs.hpp) for one
// entry of a model on this machine, and writes the winners as a tuned record that the
// next build applies (cmake/kiln.cmake).
//
// How it measures: each candidate (a set of knobs) is built by the model's own generator
// (bin/<model>.generator, beside this binary: kiln tune runs in the build tree) into a
// shared library, and run in a child process (`kiln tune --measure`), so that a candidate
// that crashes costs only itself. Nothing is built while anything is measured.
//   1. Proposals. Candidates built with Halide's profiler, run on one thread (where the
//      profiler charges each sample to the Func that runs it), give every layer's time in
//      one run; so one candidate that sets a knob value on every layer at once (and, for
//      each other lowering, each tile with it) ranks that value for each layer.
//   2. Decisions. Each layer's best proposals, biggest layers first, are built as the
//      incumbent with that one layer changed and run against the incumbent in one child
//      process, call by call in turn, at full threads, unprofiled: a move is kept when the
//      median of the per-call time ratios says it saves time and it wins most calls.
//      (Profiles alone cannot decide: at 2 threads the profiler charges a sample to
//      whichever Func a thread entered last, and at 1 thread they still differ between
//      two runs of one build by 5 % per conv.)
//   3. Halide's autoschedulers (Adams2019, Mullapudi2016, Li2018), each planning the
//      whole entry, against the winner, the same way: said, not adopted.
//   4. The winner against the default, end to end, the same way.
//
// Everything measured goes to a journal in the work folder (build/tune/...) as it is
// measured, and built libraries stay there keyed by their knobs: a tune that is stopped
// at any point and run again measures nothing twice.
#include "runtime/error.hpp"
#include "runtime/files.hpp"
#include "runtime/image.hpp"
#include "runtime/lettering.hpp"
#include "runtime/network.hpp"
#include "runtime/parameters.hpp"
#include "runtime/random.hpp"
#include "runtime/registry.hpp"
#include "tools/commands.hpp"
#include "tools/flags.hpp"
#include "tune/knobs.hpp"

#include <HalideRuntime.h>
#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <sstream>

namespace kiln::cli {

namespace {

namespace fs = std::filesystem;
using tune::Knobs;
using Clock = std::chrono::steady_clock;

constexpr const char* candidate_function = "kiln_tune_candidate";

// What one tune works on.
struct Setup {
  const RegisteredModel* model = nullptr;
  std::string entry, target, policy;
  int batch = 1;
  fs::path generator, work, record;
  double seconds = 3;  // each library's least running time per measurement
};

// A measurement: the whole entry's median time and, for profiled builds, each node's time
// per call (by node index).
struct Measurement {
  double total_ms = 0;
  std::map<int, double> node_ms;
  // Against the first library of the same run: the median of per-call time ratios, and
  // the share of calls it was faster in.
  double ratio = 1, wins = 0;
};

fs::path self_path() { return fs::read_symlink("/proc/self/exe"); }

// A duration such as 90s, 20m, 1h or 0.5 (seconds), or kiln::Error naming the flag.
double parse_seconds(const std::string& text, std::string_view flag) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  const std::string unit = end ? std::string(end) : "";
  const double scale = unit == "" || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : -1;
  if (!(v > 0) || scale < 0) fail("{}: '{}' is not a duration such as 90s, 20m or 1h", flag, text);
  return v * scale;
}

// "layer:knob=value;..." in a fixed order: the candidate's identity.
std::string knobs_text(const Knobs& knobs) {
  std::string s;
  for (const auto& [layer, values] : knobs)
    for (const auto& [name, value] : values)
      if (value != "rule") s += layer + ":" + name + "=" + value + ";";
  return s.empty() ? "default" : s;
}

// The candidates, each once, in their order.
std::vector<Knobs> distinct(const std::vector<Knobs>& candidates) {
  std::vector<Knobs> out;
  for (const Knobs& k : candidates)
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  return out;
}

std::string key_of(const std::string& text) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

int run_command(const std::string& command) { return std::system(command.c_str()); }

std::string shell_quoted(const fs::path& p) { return "'" + p.string() + "'"; }

// A record holding just the candidate's knobs, for the generator's `tuned` parameter.
tune::TunedRecord candidate_record(const Setup& s, const Knobs& knobs) {
  tune::TunedRecord r;
  r.model = std::string(s.model->view.name);
  r.entry = s.entry;
  r.target = s.target;
  r.policy = s.policy;
  r.batch = s.batch;
  for (const auto& [layer, values] : knobs) {
    int node = -1;
    for (std::size_t i = 0; i < s.model->view.nodes.size(); ++i)
      if (s.model->view.nodes[i].name.view() == layer) node = int(i);
    r.layers.push_back({layer, tune::layer_signature(s.model->view, node), values, 0, 0});
  }
  return r;
}

// The plugin of Halide's autoscheduler `name` (Adams2019, Mullapudi2016, Li2018), as this
// build found it; kiln::Error for another name.
std::string autoscheduler_plugin(std::string_view name) {
  std::stringstream list(KILN_AUTOSCHEDULERS);  // "Name=plugin,..."
  for (std::string item; std::getline(list, item, ',');)
    if (item.substr(0, item.find('=')) == name) return item.substr(item.find('=') + 1);
  fail("no autoscheduler {}", name);
}

// The candidate's shared library (built once: cached by its knobs, scheduler and
// profiling), or kiln::Error with the generator's last line. `scheduler`: an
// autoscheduler that plans the whole entry instead of the hand policy
// (the knobs then set only the convs' lowerings), its planning cut off after
// `time_limit_s` seconds.
fs::path build(const Setup& s, const Knobs& knobs, bool profiled, const std::string& scheduler = "",
               double time_limit_s = 0) {
  const std::string text = knobs_text(knobs) + (scheduler.empty() ? "" : "|" + scheduler);
  const fs::path dir = s.work / (key_of(text) + (profiled ? "-profiled" : ""));
  const fs::path so = dir / "candidate.so";
  if (fs::exists(so)) return so;
  fs::create_directories(dir);
  write_file_atomically((dir / "knobs.txt").string(), record_text(candidate_record(s, knobs)));
  const std::string target = s.target + (profiled ? "-profile" : "");
  const std::string autoschedule =
      scheduler.empty() ? ""
                        : fmt::format("-p {} -s {} auto_schedule=true", shell_quoted(autoscheduler_plugin(scheduler)), scheduler);
  // (in 8 GiB of address space: Adams2019 planning LeNet-5's train_step grew past 24 GiB)
  const std::string generate = fmt::format(
      "ulimit -v 8388608; {}{} -g {}_{} -f {} -n candidate -e object -o {} {} target={} batch_estimate={} tuned={} > {} 2>&1",
      time_limit_s > 0 ? fmt::format("timeout {:.0f} ", std::max(1.0, time_limit_s)) : "", shell_quoted(s.generator),
      s.model->name, s.entry, candidate_function, shell_quoted(dir), autoschedule, target, s.batch,
      shell_quoted(dir / "knobs.txt"), shell_quoted(dir / "log.txt"));
  const std::string link = fmt::format("{} -shared -o {} {} >> {} 2>&1", KILN_CXX, shell_quoted(dir / "candidate.so.tmp"),
                                       shell_quoted(dir / "candidate.o"), shell_quoted(dir / "log.txt"));
  if (run_command(generate) != 0 || run_command(link) != 0) {
    std::string log = read_file((dir / "log.txt").string(), "build log");
    while (!log.empty() && log.back() == '\n') log.pop_back();
    fail("building {} failed: {}", text, log.empty() ? "cut off (time limit)" : log.substr(log.rfind('\n') + 1));
  }
  fs::rename(dir / "candidate.so.tmp", so);
  return so;
}

// ---- the child: load libraries and time them -------------------------------------------

struct Loaded {
  void* handle = nullptr;
  RegisteredModel model;
};

Loaded load(const RegisteredModel& registered, const std::string& entry, const std::string& so) {
  Loaded l;
  l.handle = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (!l.handle) fail("{}: cannot load: {}", so, dlerror());
  auto argv = reinterpret_cast<int (*)(void**)>(dlsym(l.handle, (std::string(candidate_function) + "_argv").c_str()));
  auto metadata = reinterpret_cast<const halide_filter_metadata_t* (*)()>(
      dlsym(l.handle, (std::string(candidate_function) + "_metadata").c_str()));
  if (!argv || !metadata) fail("{}: not a kiln tune candidate", so);
  l.model = registered;
  std::erase_if(l.model.entries, [&](const EntryRecord& e) { return e.entry == entry; });
  // (EntryRecord keeps C strings that outlive it, as the registry's literals: the entry's
  // name is given as the literal that matches it, not as `entry`'s buffer)
  l.model.entries.push_back({"host", entry == "forward" ? "forward" : entry == "gradients" ? "gradients" : "train_step",
                             argv, metadata, true, true});
  return l;
}

// One call of the entry on fixed data, as a closure.
struct Workload {
  const Network& net;
  std::string entry;
  int batch;
  Parameters params;
  std::vector<float> m, v, input, output, grads, grad_input, targets;
  std::vector<int32_t> labels;
  Workload(const Network& n, std::string e, int b) : net(n), entry(std::move(e)), batch(b), params(n.view()) {
    params.initialize(1);
    SplitMix64 rng(2);
    input.resize(std::size_t(net.sample_size()) * batch);
    for (float& x : input) x = rng.uniform(0.0f, 1.0f);
    output.resize(std::size_t(net.output_size()) * batch);
    m.assign(params.size(), 0.0f);
    v.assign(params.size(), 0.0f);
    grads.resize(params.size());
    grad_input.resize(input.size());
    labels.resize(std::size_t(std::max<long long>(1, net.labels_size())) * batch);
    const int classes = std::max(1, int(net.view().output_shape().elements() / std::max<long long>(1, net.labels_size())));
    for (int32_t& y : labels) y = int32_t(rng.next() % uint64_t(classes));
    targets.assign(std::size_t(net.targets_size()) * batch, 0.5f);
  }
  void operator()() {
    const BatchLabels y = net.targets_size() > 0 ? BatchLabels(targets.data()) : BatchLabels(labels.data());
    if (entry == "forward") net.forward(params.data(), params.buffers(), input.data(), batch, output.data());
    else if (entry == "gradients")
      net.gradients(params.data(), params.buffers(), input.data(), y, batch, 3, grads.data(), grad_input.data());
    else
      net.train_step(params.data(), m.data(), v.data(), params.buffers(), input.data(), y, batch, 3,
                     defaults_for(Optimizer::momentum, 1e-4f));
  }
};

double time_ms(Workload& w) {
  const auto start = Clock::now();
  w();
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// `kiln tune MODEL --measure A.so[,B.so,...] --entry E --batch N --calls C --seconds S`: prints
// "ms <median>" per library, and for the second on "ratio <median of its per-call time
// over the first's> <share of calls it was faster>" (each round calls every library once,
// in turn); for a profiled library, "func <name> <ms per call>" for each Func.
int measure(const Flags& flags, const RegisteredModel& registered) {
  const std::string entry = flags.text("entry", "forward");
  const int batch = flags.positive_int("batch", 1), calls = flags.positive_int("calls", 10);
  const double seconds = parse_seconds(flags.text("seconds", "3"), "--seconds");
  std::vector<std::string> paths;
  std::stringstream list(flags.required("measure"));
  for (std::string p; std::getline(list, p, ',');) paths.push_back(p);
  std::vector<Loaded> loaded;
  for (const std::string& p : paths) loaded.push_back(load(registered, entry, p));
  std::vector<std::unique_ptr<Network>> nets;
  std::vector<std::unique_ptr<Workload>> work;
  for (const Loaded& l : loaded) {
    nets.push_back(std::make_unique<Network>(l.model, "cpu"));
    work.push_back(std::make_unique<Workload>(*nets.back(), entry, batch));
    (*work.back())();  // warm-up: first-touch allocations, thread pool start
    (*work.back())();
  }
  bool profiled = false;
  for (const Loaded& l : loaded)
    if (auto reset = reinterpret_cast<void (*)()>(dlsym(l.handle, "halide_profiler_reset"))) {
      reset();
      profiled = true;
    }
  // Every library runs for `seconds` at least (3 by default): the profiler samples every
  // millisecond, so that a layer of a tenth of a millisecond still gets samples; and the
  // median of per-call ratios of two identical builds strays by up to 2 % over 30 calls
  // of ResNet-18 here, by up to 0.7 % over three seconds of them.
  std::vector<std::vector<double>> ms(paths.size());
  double spent = 0;
  // Each round starts at the next library, so that each runs after each other equally
  // often.
  for (int r = 0; r < calls || spent < 1000 * seconds * double(paths.size()); ++r)
    for (std::size_t j = 0; j < paths.size(); ++j) {
      const std::size_t k = (std::size_t(r) + j) % paths.size();
      ms[k].push_back(time_ms(*work[k]));
      spent += ms[k].back();
    }
  for (std::size_t k = 0; k < paths.size(); ++k) {
    fmt::print("ms {:.4f}\n", median(ms[k]));
    if (k > 0) {
      std::vector<double> ratios;
      int wins = 0;
      for (std::size_t r = 0; r < ms[k].size(); ++r) {
        ratios.push_back(ms[k][r] / ms[0][r]);
        wins += ms[k][r] < ms[0][r];
      }
      fmt::print("ratio {:.5f} {:.3f}\n", median(ratios), double(wins) / double(ratios.size()));
    }
    auto state = reinterpret_cast<halide_profiler_state* (*)()>(dlsym(loaded[k].handle, "halide_profiler_get_state"));
    if (!state) continue;
    halide_profiler_state* s = state();
    for (auto* p = s->pipelines; p; p = static_cast<halide_profiler_pipeline_stats*>(p->next))
      for (int f = 0; f < p->num_funcs && p->runs > 0; ++f)
        fmt::print("func {} {:.5f}\n", p->funcs[f].name, double(p->funcs[f].time) / 1e6 / p->runs);
  }
  std::fflush(stdout);
  _exit(0);  // the libraries' thread pools and profiler threads end with the process
             // (and the profiler's own report at exit is not printed)
}

// ---- the parent: run children and read them back -----------------------------------------

// The node a Func belongs to: the layer whose Func name prefix is the longest match.
int node_of_func(const ModelView& view, std::string_view func) {
  int best = -1;
  std::size_t best_length = 0;
  for (std::size_t i = 1; i < view.nodes.size(); ++i) {
    std::string name(view.nodes[i].name.view());
    std::replace(name.begin(), name.end(), '.', '_');
    const bool match = func == name || (func.size() > name.size() && func.substr(0, name.size()) == name &&
                                        func[name.size()] == '_');
    if (match && name.size() > best_length) {
      best = int(i);
      best_length = name.size();
    }
  }
  return best;
}

// Runs the libraries in a child (`measure`); a profiled one on one thread.
std::vector<Measurement> run_child(const Setup& s, const std::vector<fs::path>& libraries, int calls,
                                   bool profiled = false) {
  std::string list;
  for (const fs::path& p : libraries) list += (list.empty() ? "" : ",") + p.string();
  const fs::path out = s.work / fmt::format("measure.{}.txt", getpid());
  const std::string command = fmt::format(
      "{}{} tune {} --measure {} --entry {} --batch {} --calls {} --seconds {} > {} 2>&1", profiled ? "HL_NUM_THREADS=1 " : "",
      shell_quoted(self_path()), s.model->name, shell_quoted(list), s.entry, s.batch, calls, s.seconds, shell_quoted(out));
  const int status = run_command(command);
  std::string text = read_file(out.string(), "measurement");
  fs::remove(out);
  // (a candidate's folder names it: the work folder holds its knobs.txt)
  std::string names;
  for (const fs::path& p : libraries) names += (names.empty() ? "" : ",") + p.parent_path().filename().string();
  if (status != 0) fail("measuring {} failed: {}", names, text.substr(0, text.find('\n')));
  std::vector<Measurement> m;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream w(line);
    std::string kind, name;
    double value = 0;
    w >> kind;
    if (kind == "ms" && (w >> value)) {
      m.push_back({value, {}});
    } else if (kind == "ratio" && (w >> value) && !m.empty()) {
      m.back().ratio = value;
      w >> m.back().wins;
    } else if (kind == "func" && (w >> name >> value) && !m.empty()) {
      const int node = node_of_func(s.model->view, name);
      if (node >= 0) m.back().node_ms[node] += value;
    }
  }
  if (m.size() != libraries.size()) fail("measuring {} gave no times: {}", names, text.substr(0, 200));
  return m;
}

// ---- the search ---------------------------------------------------------------------

// The tunable layers (their knob declarations, less those the entry does not build), and
// the cost of a layer in a profile: its own Funcs' time, plus, in inference, the batch
// norm its tiles are stored through (tune::sole_batch_norm_reader).
struct Space {
  std::vector<int> nodes;
  std::map<int, std::vector<tune::KnobSpec>> specs;
  std::map<int, int> fused_reader;
};

Space space_of(const Setup& s) {
  Space sp;
  const ModelView& v = s.model->view;
  for (std::size_t i = 1; i < v.nodes.size(); ++i) {
    std::vector<tune::KnobSpec> specs = tune::knobs_of(s.policy, v, int(i));
    std::erase_if(specs, [&](const tune::KnobSpec& k) { return k.gradients && s.entry == "forward"; });
    if (specs.empty()) continue;
    sp.nodes.push_back(int(i));
    sp.specs[int(i)] = std::move(specs);
    const int reader = tune::sole_batch_norm_reader(v, int(i));
    if (s.entry == "forward" && v.nodes[i].op == Op::conv2d && reader >= 0) sp.fused_reader[int(i)] = reader;
  }
  return sp;
}

double layer_cost(const Space& sp, const Measurement& m, int node) {
  auto at = [&](int n) { auto it = m.node_ms.find(n); return it == m.node_ms.end() ? 0.0 : it->second; };
  const auto fused = sp.fused_reader.find(node);
  return at(node) + (fused == sp.fused_reader.end() ? 0.0 : at(fused->second));
}

// The journal: every measurement as one line, "<key> <total ms> r=<ratio> w=<wins>
// <node>=<ms> ... end". Keys: "default" (the default's profile, ms per layer), "rel|<knobs>"
// (a candidate's profile, each layer's cost over the default's), "ab|<base knobs>|<knobs>"
// (a move against its base), "as|<autoscheduler>|<knobs>" (an autoscheduler against the
// winner).
class Journal {
 public:
  explicit Journal(fs::path path) : path_(std::move(path)) {
    if (!fs::exists(path_)) return;
    std::istringstream lines(read_file(path_.string(), "tune journal"));
    for (std::string line; std::getline(lines, line);) {
      std::istringstream w(line);
      std::string text;
      Measurement m;
      if (!(w >> text >> m.total_ms)) continue;  // a line cut short by a kill: measured again
      bool whole = false;
      for (std::string item; w >> item;) {
        if (item == "end") whole = true;
        const std::size_t eq = item.find('=');
        if (eq == std::string::npos) continue;
        const std::string key = item.substr(0, eq);
        const double value = std::stod(item.substr(eq + 1));
        if (key == "r") m.ratio = value;
        else if (key == "w") m.wins = value;
        else m.node_ms[std::stoi(key)] = value;
      }
      if (whole) done_[text] = m;
    }
  }
  const Measurement* find(const std::string& text) const {
    auto it = done_.find(text);
    return it == done_.end() ? nullptr : &it->second;
  }
  void add(const std::string& text, const Measurement& m) {
    std::string line = fmt::format("{} {:.5f} r={:.5f} w={:.3f}", text, m.total_ms, m.ratio, m.wins);
    for (const auto& [node, ms] : m.node_ms) line += fmt::format(" {}={:.5f}", node, ms);
    line += " end\n";
    std::FILE* f = std::fopen(path_.c_str(), "a");
    if (!f) fail("{}: cannot append to the tune journal", path_.string());
    std::fputs(line.c_str(), f);
    std::fflush(f);
    fsync(fileno(f));
    std::fclose(f);
    done_[text] = m;
  }
  std::size_t size() const { return done_.size(); }

 private:
  fs::path path_;
  std::map<std::string, Measurement> done_;
};

std::string comparison_key(const Knobs& base, const Knobs& candidate) {
  return "ab|" + knobs_text(base) + "|" + knobs_text(candidate);
}

struct Search {
  const Setup& s;
  const Space& space;
  Journal journal;
  Clock::time_point start = Clock::now();
  double budget_s;
  int jobs, calls;
  double default_ms = 0, best_ms = 0;

  double step_s = 0, build_s = 0;  // the last step's (a group's or chunk's) and build's seconds

  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start).count(); }
  // A step starts only where it (taking as long as the last one) and then the final
  // comparison (a build, and two libraries for s.seconds each) end within the budget.
  bool out_of_time() const { return elapsed() + step_s + build_s + 2 * s.seconds + 2 >= budget_s; }
  void progress(std::string_view what) const {
    const int width = 30, done = std::min(width, int(width * elapsed() / budget_s));
    const std::string best = default_ms > 0 ? fmt::format("best {:.3f} ms (default {:.3f})", best_ms, default_ms) : "";
    fmt::print("\r[{}{}] {:4.0f}/{:.0f} s  {} measured  {}  {:<40}", std::string(std::size_t(done), '#'),
               std::string(std::size_t(width - done), ' '), elapsed(), budget_s, journal.size(), best,
               what.substr(0, 40));
    std::fflush(stdout);
  }

  // The candidates' libraries, built `jobs` at a time (each distinct one once); an empty
  // path for one that failed to build (said on a line of its own).
  std::vector<fs::path> build_all(const std::vector<Knobs>& candidates, bool profiled) {
    const double began = elapsed();
    const std::vector<Knobs> todo = distinct(candidates);
    std::map<Knobs, fs::path> built;
    for (std::size_t first = 0; first < todo.size(); first += std::size_t(jobs)) {
      const std::size_t last = std::min(todo.size(), first + std::size_t(jobs));
      std::vector<std::future<fs::path>> pending;
      for (std::size_t k = first; k < last; ++k)
        pending.push_back(std::async(std::launch::async, [&, k] { return build(s, todo[k], profiled); }));
      for (std::size_t k = first; k < last; ++k) {
        try {
          built[todo[k]] = pending[k - first].get();
        } catch (const Error& e) {  // a candidate that fails to build is skipped
          fmt::print("\nkiln tune: skipped {}: {}\n", knobs_text(todo[k]), e.what());
        }
      }
    }
    std::vector<fs::path> out;
    for (const Knobs& k : candidates) out.push_back(built.count(k) ? built.at(k) : fs::path());
    const std::size_t rounds = (todo.size() + std::size_t(jobs) - 1) / std::size_t(jobs);
    build_s = std::max(build_s, (elapsed() - began) / double(rounds));  // cached ones take no time
    return out;
  }

  // Each candidate's layers profiled beside the default's in one child, on one thread, a
  // group of candidates at a time (journaled ones are not measured again): node_ms holds,
  // for each tunable layer, its cost over the default's in the same run (so that drift
  // between runs cancels), total_ms the candidate's time; total_ms -1 for one that failed
  // or was not reached within the budget. The default's own profile is journaled as
  // "default".
  std::vector<Measurement> profile(const std::vector<Knobs>& candidates) {
    constexpr std::size_t group = 8;
    std::vector<Measurement> out(candidates.size());
    std::vector<Knobs> todo;
    std::vector<std::size_t> where;
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      if (const Measurement* m = journal.find("rel|" + knobs_text(candidates[k]))) out[k] = *m;
      else todo.push_back(candidates[k]), where.push_back(k);
    }
    for (std::size_t first = 0; first < todo.size(); first += group) {
      if (out_of_time()) {
        for (std::size_t k = first; k < todo.size(); ++k) out[where[k]].total_ms = -1;
        break;
      }
      const double began = elapsed();
      std::vector<Knobs> part{Knobs{}};
      part.insert(part.end(), todo.begin() + long(first), todo.begin() + long(std::min(todo.size(), first + group)));
      progress(fmt::format("profiling {} candidates", part.size() - 1));
      const std::vector<fs::path> built = build_all(part, true);
      if (built[0].empty()) fail("the default build of {} does not build", s.model->name);
      std::vector<fs::path> run{built[0]};
      std::vector<std::size_t> ran;
      for (std::size_t k = 1; k < part.size(); ++k) {
        out[where[first + k - 1]].total_ms = -1;
        if (!built[k].empty()) run.push_back(built[k]), ran.push_back(k);
      }
      std::vector<Measurement> ms;
      try {
        ms = run_child(s, run, calls, true);
      } catch (const Error& e) {  // a crashing candidate: the group's members one at a time
        if (ran.size() <= 1) {
          fmt::print("\nkiln tune: skipped {}: {}\n", ran.empty() ? "the default" : knobs_text(part[ran[0]]), e.what());
          continue;
        }
        for (std::size_t k : ran) out[where[first + k - 1]] = profile({part[k]})[0];
        continue;
      }
      if (!journal.find("default")) journal.add("default", ms[0]);
      for (std::size_t j = 0; j < ran.size(); ++j) {
        Measurement rel{ms[j + 1].total_ms, {}, ms[j + 1].ratio, ms[j + 1].wins};
        for (int node : space.nodes) {
          const double base = layer_cost(space, ms[0], node);
          if (base > 0) rel.node_ms[node] = layer_cost(space, ms[j + 1], node) / base;
        }
        journal.add("rel|" + knobs_text(part[ran[j]]), rel);
        out[where[first + ran[j] - 1]] = rel;
      }
      step_s = elapsed() - began;
    }
    return out;
  }

  // Each candidate against `base`, in one child (journaled comparisons are not run
  // again); ratio 0 for one that failed.
  std::vector<Measurement> compare(const Knobs& base, const std::vector<Knobs>& candidates) {
    std::vector<Measurement> out(candidates.size());
    std::vector<Knobs> todo{base};
    std::vector<std::size_t> where;
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      if (const Measurement* m = journal.find(comparison_key(base, candidates[k]))) out[k] = *m;
      else todo.push_back(candidates[k]), where.push_back(k);
    }
    if (where.empty()) return out;
    progress(fmt::format("comparing {} moves", where.size()));
    const double began = elapsed();
    const std::vector<fs::path> built = build_all(todo, false);
    if (built[0].empty()) fail("the incumbent {} does not build", knobs_text(base));
    std::vector<fs::path> run{built[0]};
    std::vector<std::size_t> ran;
    for (std::size_t k = 1; k < todo.size(); ++k) {
      if (built[k].empty()) continue;
      run.push_back(built[k]);
      ran.push_back(where[k - 1]);
    }
    if (ran.empty()) return out;
    std::vector<Measurement> ms;
    try {
      ms = run_child(s, run, calls);
    } catch (const Error& e) {  // one crashing candidate: each measured alone against the base
      if (ran.size() == 1) {
        fmt::print("\nkiln tune: skipped {}: {}\n", knobs_text(candidates[ran[0]]), e.what());
        return out;
      }
      for (std::size_t k = 0; k < ran.size(); ++k) out[ran[k]] = compare(base, {candidates[ran[k]]})[0];
      return out;
    }
    for (std::size_t k = 0; k < ran.size(); ++k) {
      journal.add(comparison_key(base, candidates[ran[k]]), ms[k + 1]);
      out[ran[k]] = ms[k + 1];
    }
    step_s = elapsed() - began;
    return out;
  }
};

// Halide's autoschedulers, each planning the whole entry, against the hand policy with
// `incumbent`'s knobs, each in a child of its own: for each, its time over the incumbent's (journaled
// as "as|<scheduler>|<knobs>"), or a reason it has none (its planning did not end within
// the time left, or it failed).
std::vector<std::pair<std::string, std::string>> compare_autoschedulers(Search& search, const Knobs& incumbent) {
  const Setup& s = search.s;
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* name : {"Adams2019", "Mullapudi2016", "Li2018"}) {
    const std::string key = fmt::format("as|{}|{}", name, knobs_text(incumbent));
    if (const Measurement* m = search.journal.find(key)) {
      out.push_back({name, fmt::format("{:.2f}x the tuned build's time", m->ratio)});
      continue;
    }
    // Its planning stops where the comparison (two libraries) and the final one would
    // no longer end within the budget.
    const double left = search.budget_s - search.elapsed() - search.build_s - 4 * s.seconds - 4;
    if (left < 10) {
      out.push_back({name, "not run: the budget was spent"});
      continue;
    }
    search.progress(fmt::format("planning with {}", name));
    try {
      const fs::path built = build(s, Knobs{}, false, name, left);
      search.progress(fmt::format("measuring {}", name));
      const Measurement m = run_child(s, {search.build_all({incumbent}, false)[0], built}, search.calls)[1];
      search.journal.add(key, m);
      out.push_back({name, fmt::format("{:.2f}x the tuned build's time", m.ratio)});
    } catch (const Error& e) {
      out.push_back({name, e.what()});
    }
  }
  return out;
}

// Every layer given value `value` of knob `name` where its declaration allows it.
Knobs everywhere(const Space& sp, const ModelView& v, const std::string& name, const std::string& value) {
  Knobs k;
  for (int node : sp.nodes)
    for (const tune::KnobSpec& spec : sp.specs.at(node))
      if (spec.name == name && std::find(spec.values.begin(), spec.values.end(), value) != spec.values.end())
        k[std::string(v.nodes[std::size_t(node)].name.view())][name] = value;
  return k;
}

// The proposals' candidates: each knob value on every layer that allows it, and each
// other lowering with each tile on every layer.
std::vector<Knobs> proposal_candidates(const Space& sp, const ModelView& v) {
  std::set<std::pair<std::string, std::string>> values;
  for (int node : sp.nodes)
    for (const tune::KnobSpec& spec : sp.specs.at(node))
      for (std::size_t k = 1; k < spec.values.size(); ++k)
        if (!(spec.name == "lowering" && spec.values[k] == spec.values[0])) values.insert({spec.name, spec.values[k]});
  std::vector<Knobs> out;
  for (const auto& [name, value] : values) out.push_back(everywhere(sp, v, name, value));
  for (const auto& [lowering_name, lowering] : values) {
    if (lowering_name != "lowering") continue;
    for (const auto& [tile_name, tile] : values) {
      if (tile_name != "tile") continue;
      Knobs k = everywhere(sp, v, "lowering", lowering);
      for (auto& [layer, knobs] : everywhere(sp, v, "tile", tile))
        if (k.count(layer)) k[layer]["tile"] = knobs["tile"];
      out.push_back(k);
    }
  }
  // (a tile no layer of that lowering allows leaves a copy of another candidate)
  std::erase_if(out, [](const Knobs& k) { return k.empty(); });
  return distinct(out);
}

// A proposed move: one layer's knobs, and its profiled cost over the default's.
struct Move {
  int node;
  tune::LayerKnobs knobs;
  double relative;
};

// Per layer, its settings the profiles rank 3 % faster than the default's, best first, at
// most `per_layer`; the biggest layers' (by `costs`: the default's profile) first.
std::vector<Move> proposals(const Space& sp, const ModelView& v, const std::vector<Knobs>& candidates,
                            const std::vector<Measurement>& ms, const Measurement& costs, int per_layer) {
  std::vector<std::pair<double, std::vector<Move>>> layers;
  for (int node : sp.nodes) {
    const std::string name(v.nodes[std::size_t(node)].name.view());
    std::map<tune::LayerKnobs, double> best;
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      const auto it = candidates[c].find(name);
      const auto rel = ms[c].node_ms.find(node);
      if (ms[c].total_ms <= 0 || it == candidates[c].end() || rel == ms[c].node_ms.end()) continue;
      if (rel->second < 0.97 && (!best.count(it->second) || rel->second < best[it->second])) best[it->second] = rel->second;
    }
    std::vector<Move> moves;
    for (const auto& [knobs, r] : best) moves.push_back({node, knobs, r});
    std::sort(moves.begin(), moves.end(), [](const Move& a, const Move& b) { return a.relative < b.relative; });
    if (int(moves.size()) > per_layer) moves.resize(std::size_t(per_layer));
    layers.push_back({layer_cost(sp, costs, node), moves});
  }
  std::stable_sort(layers.begin(), layers.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Move> out;
  for (const auto& [cost, moves] : layers) out.insert(out.end(), moves.begin(), moves.end());
  return out;
}

// A layer's best cost over the default's among the profiled candidates that change its
// knobs (1 where none profiled faster).
double best_relative(const ModelView& v, int node, const std::vector<Knobs>& candidates,
                     const std::vector<Measurement>& ms) {
  double best = 1;
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    const auto it = ms[c].node_ms.find(node);
    if (ms[c].total_ms > 0 && it != ms[c].node_ms.end() && candidates[c].count(v.nodes[std::size_t(node)].name.view()))
      best = std::min(best, it->second);
  }
  return best;
}


// ---- the report -------------------------------------------------------------------------

void draw_chart(const tune::TunedRecord& r, const std::string& path) {
  const int bar = 10, gap = 6, left = 8, top = 24, plot = 160;
  const int width = std::max(260, left * 2 + int(r.layers.size()) * (2 * bar + gap));
  Image img{3, top + plot + 24, width, std::vector<float>(std::size_t(3) * (top + plot + 24) * width, 1.0f)};
  double most = 1e-9;
  for (const tune::TunedLayer& l : r.layers) most = std::max({most, l.default_ms, l.tuned_ms});
  const float gray[3] = {0.6f, 0.6f, 0.6f}, green[3] = {0.2f, 0.7f, 0.3f}, black[3] = {0, 0, 0},
              white[3] = {1, 1, 1};
  auto fill = [&](int x0, int y0, int x1, int y1, const float* c) {
    for (int y = std::max(0, y0); y < std::min(img.height, y1); ++y)
      for (int x = std::max(0, x0); x < std::min(img.width, x1); ++x)
        for (int k = 0; k < 3; ++k) img.at(k, y, x) = c[k];
  };
  for (std::size_t i = 0; i < r.layers.size(); ++i) {
    const int x = left + int(i) * (2 * bar + gap), base = top + plot;
    const int hd = int(plot * r.layers[i].default_ms / most), ht = int(plot * r.layers[i].tuned_ms / most);
    fill(x, base - hd, x + bar, base, gray);
    fill(x + bar, base - ht, x + 2 * bar, base, green);
    if (i % 2 == 0) lettering::draw_label(img, x, base + 2, std::to_string(i), white, black);
  }
  lettering::draw_label(img, 2, 2,
                        fmt::format("{} {} {:.2f} MS TO {:.2f}", r.model, r.entry, r.default_ms, r.tuned_ms), white,
                        black);
  lettering::draw_label(img, 2, 12, "LAYERS", white, black);
  lettering::draw_label(img, 2 + lettering::label_width("LAYERS "), 12, "DEFAULT", gray, black);
  lettering::draw_label(img, 2 + lettering::label_width("LAYERS DEFAULT "), 12, "TUNED", green, black);
  save_png(path, img);
}

// A layer's verdict in the report: what the tune kept, or how close the default came to
// the best alternative measured.
std::string verdict(const tune::TunedLayer& l) {
  if (!l.knobs.empty()) return fmt::format("kept: {:.2f}x end to end", l.default_ms / std::max(1e-9, l.tuned_ms));
  if (l.best_ms <= 0) return "too short for the profiles to rank";
  const double best = l.default_ms / l.best_ms;
  if (best < 1.05) return fmt::format("default within 5 % of the best profiled ({:.2f}x)", best);
  return l.tried > 0 ? fmt::format("the best profiled {:.2f}x; none of {} tried saved 1 % end to end", best, l.tried)
                     : fmt::format("the best profiled {:.2f}x; not tried end to end (budget)", best);
}

int report(const Setup& s, const Flags& flags) {
  const tune::TunedRecord r = tune::parse_record(read_file(s.record.string(), "tuned record"));
  fmt::print("{} {} on {} at batch {} ({} policy): {:.3f} ms by default, {:.3f} ms tuned: {:.2f}x\n", r.model, r.entry,
             r.target, r.batch, r.policy, r.default_ms, r.tuned_ms, r.default_ms / std::max(1e-9, r.tuned_ms));
  fmt::print("(default ms: a layer's share of the entry by a one-thread profile; tuned: that less its part of what\n"
             " the kept knobs saved end to end; best: the best the profiles found for it, beside the default)\n");
  fmt::print("{:>3}  {:<24} {:>10} {:>10} {:>10}  {:<28} {}\n", "#", "layer", "default ms", "tuned ms", "best ms",
             "knobs", "verdict");
  for (std::size_t i = 0; i < r.layers.size(); ++i) {
    const tune::TunedLayer& l = r.layers[i];
    std::string knobs;
    for (const auto& [k, v] : l.knobs) knobs += (knobs.empty() ? "" : " ") + k + "=" + v;
    fmt::print("{:>3}  {:<24} {:>10.4f} {:>10.4f} {:>10.4f}  {:<28} {}\n", i, l.name, l.default_ms, l.tuned_ms,
               l.best_ms, knobs.empty() ? "(the policy's rule)" : knobs, verdict(l));
  }
  const std::string chart = flags.text("chart", s.model->name + "." + s.entry + ".png");
  draw_chart(r, chart);
  fmt::print("chart: {}\n", chart);
  return 0;
}

}  // namespace

int tune_command(const std::vector<std::string>& args) {
  const Flags flags(args, {"target", "entry", "batch", "budget", "jobs", "calls", "seconds", "record", "chart", "work",
                           "measure"},
                    1, {"report"});
  const RegisteredModel& model = model_argument(flags);
  if (flags.has("measure")) return measure(flags, model);
  Setup s;
  s.model = &model;
  s.entry = flags.text("entry", "forward");
  if (s.entry != "forward" && s.entry != "gradients" && s.entry != "train_step")
    fail("--entry: '{}' is not forward, gradients or train_step", s.entry);
  s.target = flags.text("target", "host");
  if (s.target != "host") fail("--target: only 'host' is tuned so far, not '{}'", s.target);
  s.batch = flags.positive_int("batch", 1);
  s.policy = std::string(tune::policy_name(model.view, false, "auto", s.batch));
  s.record = flags.has("record") ? fs::path(flags.text("record", ""))
                                 : fs::path(KILN_SOURCE_DIR) / "schedules" / "tuned" / s.target /
                                       (model.name + "." + s.entry + ".txt");
  if (flags.has("report")) return report(s, flags);

  s.generator = self_path().parent_path() / (model.name + ".generator");
  if (!fs::exists(s.generator))
    fail("no generator for {} at {} (kiln tune runs in the build tree)", model.name, s.generator.string());
  if (!model.find_entry(s.entry, "cpu")) fail("{} has no {} entry built", model.name, s.entry);
  const Space sp = space_of(s);
  if (sp.nodes.empty()) fail("the {} policy declares no knobs for {}'s layers: nothing to tune", s.policy, model.name);
  const double budget_s = parse_seconds(flags.text("budget", "20m"), "--budget");
  s.seconds = parse_seconds(flags.text("seconds", "3"), "--seconds");
  const int jobs = flags.positive_int("jobs", 2), calls = flags.positive_int("calls", 20);
  // The work folder, per generator build: what an older generator built is not reused.
  const auto stamp = fs::last_write_time(s.generator).time_since_epoch().count();
  s.work = fs::path(flags.text("work", (self_path().parent_path().parent_path() / "tune").string())) /
           fmt::format("{}.{}.{}.b{}.{:x}", model.name, s.entry, s.target, s.batch, uint64_t(stamp) ^ fs::file_size(s.generator));
  fs::create_directories(s.work);
  fs::create_directories(s.record.parent_path());
  check_writable(s.record.string());

  Search search{s, sp, Journal(s.work / "journal.txt"), Clock::now(), budget_s, jobs, calls};
  const ModelView& v = model.view;
  fmt::print("kiln tune {} {} on {} at batch {}: {} layers with knobs ({} policy); work folder {}; {} candidates "
             "measured before\n", model.name, s.entry, s.target, s.batch, sp.nodes.size(), s.policy, s.work.string(),
             search.journal.size());

  // 1. Proposals: each knob value everywhere, profiled beside the default.
  const std::vector<Knobs> candidates = proposal_candidates(sp, v);
  const std::vector<Measurement> profiles = search.profile(candidates);
  const Measurement* default_profile = search.journal.find("default");
  if (!default_profile) fail("the default build of {} could not be profiled", model.name);
  const std::vector<Move> moves = proposals(sp, v, candidates, profiles, *default_profile, 3);
  fmt::print("\n{} candidates profiled; {} moves proposed\n", candidates.size(), moves.size());

  // 2. Decisions: each proposed move against the incumbent, a few layers at a time. A
  // move is kept when it saves 1 % of the entry (the median per-call ratio of two
  // identical builds stays within 0.7 % of 1 here) and wins most calls.
  constexpr double keep_ratio = 0.99, keep_wins = 0.6;
  struct LayerResult {
    int tried = 0;
    double saved = 0;  // the kept moves' saving, a share of the entry's time (1 - ratio)
  };
  std::map<int, LayerResult> results;
  Knobs incumbent;
  for (std::size_t first = 0; first < moves.size() && !search.out_of_time(); first += 6) {
    const std::vector<Move> chunk(moves.begin() + long(first), moves.begin() + long(std::min(moves.size(), first + 6)));
    std::vector<Knobs> cands;
    for (const Move& m : chunk) {
      Knobs k = incumbent;
      k[std::string(v.nodes[std::size_t(m.node)].name.view())] = m.knobs;
      cands.push_back(k);
    }
    const std::vector<Measurement> ms = search.compare(incumbent, cands);
    std::map<int, std::size_t> best;  // layer -> its best move in the chunk
    for (std::size_t k = 0; k < chunk.size(); ++k) {
      if (ms[k].total_ms <= 0) continue;
      if (search.default_ms == 0) search.default_ms = search.best_ms = ms[k].total_ms / ms[k].ratio;
      LayerResult& r = results[chunk[k].node];
      ++r.tried;
      if (!best.count(chunk[k].node) || ms[k].ratio < ms[best[chunk[k].node]].ratio) best[chunk[k].node] = k;
    }
    for (const auto& [node, k] : best)
      if (ms[k].ratio < keep_ratio && ms[k].wins >= keep_wins) {
        incumbent[std::string(v.nodes[std::size_t(node)].name.view())] = chunk[k].knobs;
        results[node].saved += 1 - ms[k].ratio;
        search.best_ms -= (1 - ms[k].ratio) * search.default_ms;
      }
  }

  // 3. Halide's autoschedulers, each planning the whole entry, against the winner (said,
  // not adopted: a record holds the hand policy's knobs).
  const std::vector<std::pair<std::string, std::string>> autoscheduled = compare_autoschedulers(search, incumbent);

  // 4. The winner against the default, end to end, in one process, unprofiled.
  search.progress("final: the winner against the default");
  Measurement final_ab;  // the winner's time and ratio to the default
  double default_ms = 0;
  if (!incumbent.empty()) {
    final_ab = search.compare(Knobs{}, {incumbent})[0];
    default_ms = final_ab.total_ms / final_ab.ratio;
  } else {  // nothing kept: the default against itself gives its time
    final_ab = search.compare(Knobs{}, {Knobs{}})[0];
    default_ms = final_ab.total_ms;
  }
  const bool better = !incumbent.empty() && final_ab.total_ms > 0 && final_ab.ratio < 1 && final_ab.wins >= 0.5;
  fmt::print("\n");

  // The record: each layer's share of the entry by the default's (one-thread) profile,
  // scaled to the entry's time; tuned, that less its share of what the final comparison
  // saved, shared out as the kept moves' own comparisons saved; best, that times the best
  // cost over the default's that the profiles found.
  tune::TunedRecord r = candidate_record(s, Knobs{});
  r.layers.clear();
  const double scale = default_ms / default_profile->total_ms;
  double kept = 0;
  for (const auto& [node, lr] : results) kept += lr.saved;
  const double confirmed = better ? (1 - final_ab.ratio) / std::max(kept, 1 - final_ab.ratio) : 0;
  for (int node : sp.nodes) {
    const std::string name(v.nodes[std::size_t(node)].name.view());
    const LayerResult& lr = results[node];
    const double share = layer_cost(sp, *default_profile, node) * scale;
    tune::TunedLayer l{name, tune::layer_signature(v, node), {}, share, share, lr.tried,
                       share * best_relative(v, node, candidates, profiles)};
    if (better && incumbent.count(name)) {
      l.knobs = incumbent.at(name);
      l.tuned_ms = std::max(0.0, share - lr.saved * confirmed * default_ms);
    }
    r.layers.push_back(l);
  }
  r.default_ms = default_ms;
  r.tuned_ms = better ? final_ab.total_ms : default_ms;
  write_file_atomically(s.record.string(), tune::record_text(r));
  fmt::print("{} {} at batch {}: default {:.3f} ms, tuned {:.3f} ms ({:.2f}x) after {} measurements in {:.0f} s{}\n",
             model.name, s.entry, s.batch, r.default_ms, r.tuned_ms, r.default_ms / r.tuned_ms, search.journal.size(),
             search.elapsed(), better ? "" : incumbent.empty() ? "; no move was faster: the default stays"
                                                              : "; the default stays (the winner was not faster)");
  for (const auto& [name, how] : autoscheduled) fmt::print("{} (the whole entry): {}\n", name, how);
  fmt::print("wrote {}\n", s.record.string());
  return 0;
}

}  // namespace kiln::cli
