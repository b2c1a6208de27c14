// kiln tune MODEL: searches the knobs a schedule policy declares (tune/knobs.hpp) for one
// entry of a model on this machine, and writes the winners as a tuned record that the
// next build applies (cmake/kiln.cmake).
//
// How it measures: each candidate (a set of knobs) is built by the model's own generator
// (bin/<model>.generator, beside this binary: kiln tune runs in the build tree) into a
// shared library, and run in a child process (`kiln tune --measure`), so that a candidate
// that crashes costs only itself. Candidates built with Halide's profiler give every
// layer's time in one run, so one candidate that changes a knob on every layer measures
// that change for each of them: the search first tries each knob value on every layer at
// once, keeps each layer's best, then tries single-layer moves around the best, and
// finally measures the winner against the default schedule end to end, both loaded in
// one process and run in alternation.
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
};

// A measurement: the whole entry's median time and, for profiled builds, each node's time
// per call (by node index).
struct Measurement {
  double total_ms = 0;
  std::map<int, double> node_ms;
};

fs::path self_path() { return fs::read_symlink("/proc/self/exe"); }

// "layer:knob=value;..." in a fixed order: the candidate's identity.
std::string knobs_text(const Knobs& knobs) {
  std::string s;
  for (const auto& [layer, values] : knobs)
    for (const auto& [name, value] : values)
      if (value != "rule") s += layer + ":" + name + "=" + value + ";";
  return s.empty() ? "default" : s;
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

// The candidate's shared library (built once: cached by its knobs and profiling), or
// kiln::Error with the generator's last line.
fs::path build(const Setup& s, const Knobs& knobs, bool profiled) {
  const std::string text = knobs_text(knobs);
  const fs::path dir = s.work / (key_of(text) + (profiled ? "-profiled" : ""));
  const fs::path so = dir / "candidate.so";
  if (fs::exists(so)) return so;
  fs::create_directories(dir);
  write_file_atomically((dir / "knobs.txt").string(), record_text(candidate_record(s, knobs)));
  const std::string target = s.target + (profiled ? "-profile" : "");
  const std::string generate = fmt::format(
      "{} -g {}_{} -f {} -n candidate -e object -o {} target={} batch_estimate={} tuned={} > {} 2>&1",
      shell_quoted(s.generator), s.model->name, s.entry, candidate_function, shell_quoted(dir), target, s.batch,
      shell_quoted(dir / "knobs.txt"), shell_quoted(dir / "log.txt"));
  const std::string link = fmt::format("{} -shared -o {} {} >> {} 2>&1", KILN_CXX, shell_quoted(dir / "candidate.so.tmp"),
                                       shell_quoted(dir / "candidate.o"), shell_quoted(dir / "log.txt"));
  if (run_command(generate) != 0 || run_command(link) != 0) {
    std::string log = read_file((dir / "log.txt").string(), "build log");
    while (!log.empty() && log.back() == '\n') log.pop_back();
    fail("building {} failed: {}", text, log.substr(log.rfind('\n') + 1));
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

double median_ms(Workload& w, int calls) {
  std::vector<double> t;
  for (int k = 0; k < calls; ++k) {
    const auto start = Clock::now();
    w();
    t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// `kiln tune MODEL --measure A.so[,B.so] --entry E --batch N --calls C`: prints
// "ms <median>" per library (alternating rounds when there are two) and, for a profiled
// one, "func <name> <ms per call>" for each Func.
int measure(const Flags& flags, const RegisteredModel& registered) {
  const std::string entry = flags.text("entry", "forward");
  const int batch = flags.positive_int("batch", 1), calls = flags.positive_int("calls", 10);
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
  // The profiler samples every millisecond: a profiled library runs for a second and a
  // half at least, so that a layer of a tenth of a millisecond still gets samples.
  const int rounds = paths.size() > 1 ? 5 : 1;
  std::vector<std::vector<double>> ms(paths.size());
  for (int r = 0; r < rounds; ++r)
    for (std::size_t k = 0; k < paths.size(); ++k) {
      const double first = median_ms(*work[k], calls);
      ms[k].push_back(first);
      for (double spent = first * calls; profiled && spent < 1500; spent += first * calls)
        ms[k].push_back(median_ms(*work[k], calls));
    }
  for (std::size_t k = 0; k < paths.size(); ++k) {
    std::sort(ms[k].begin(), ms[k].end());
    fmt::print("ms {:.4f}\n", ms[k][ms[k].size() / 2]);
    auto state = reinterpret_cast<halide_profiler_state* (*)()>(dlsym(loaded[k].handle, "halide_profiler_get_state"));
    if (!state) continue;
    halide_profiler_state* s = state();
    for (auto* p = s->pipelines; p; p = static_cast<halide_profiler_pipeline_stats*>(p->next))
      for (int f = 0; f < p->num_funcs && p->runs > 0; ++f)
        fmt::print("func {} {:.5f}\n", p->funcs[f].name, double(p->funcs[f].time) / 1e6 / p->runs);
    if (auto shutdown = reinterpret_cast<void (*)()>(dlsym(loaded[k].handle, "halide_profiler_shutdown"))) shutdown();
  }
  std::fflush(stdout);
  _exit(0);  // the libraries' thread pools and profiler threads end with the process
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

std::vector<Measurement> run_child(const Setup& s, const std::vector<fs::path>& libraries, int calls) {
  std::string list;
  for (const fs::path& p : libraries) list += (list.empty() ? "" : ",") + p.string();
  const fs::path out = s.work / fmt::format("measure.{}.txt", getpid());
  const std::string command = fmt::format("{} tune {} --measure {} --entry {} --batch {} --calls {} > {} 2>&1",
                                          shell_quoted(self_path()), s.model->name, shell_quoted(list), s.entry, s.batch, calls,
                                          shell_quoted(out));
  const int status = run_command(command);
  std::string text = read_file(out.string(), "measurement");
  fs::remove(out);
  if (status != 0) fail("measuring {} failed: {}", list, text.substr(0, text.find('\n')));
  std::vector<Measurement> m;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream w(line);
    std::string kind, name;
    double value = 0;
    w >> kind;
    if (kind == "ms" && (w >> value)) {
      m.push_back({value, {}});
    } else if (kind == "func" && (w >> name >> value) && !m.empty()) {
      const int node = node_of_func(s.model->view, name);
      if (node >= 0) m.back().node_ms[node] += value;
    }
  }
  if (m.size() != libraries.size()) fail("measuring {} gave no times: {}", list, text.substr(0, 200));
  return m;
}

// ---- the search ---------------------------------------------------------------------

// The tunable layers (their knob declarations), and the cost of a layer in a profile: its
// own Funcs' time, plus the batch norm its tiles are stored through in inference.
struct Space {
  std::vector<int> nodes;
  std::map<int, std::vector<tune::KnobSpec>> specs;
  std::map<int, int> fused_reader;  // conv -> the batch norm that alone reads it (forward)
};

Space space_of(const Setup& s) {
  Space sp;
  const ModelView& v = s.model->view;
  for (std::size_t i = 1; i < v.nodes.size(); ++i) {
    std::vector<tune::KnobSpec> specs = tune::knobs_of(s.policy, v, int(i));
    if (specs.empty()) continue;
    sp.nodes.push_back(int(i));
    sp.specs[int(i)] = std::move(specs);
    int readers = 0, reader = -1;
    for (std::size_t j = 1; j < v.nodes.size(); ++j)
      for (int k = 0; k < v.nodes[j].input_count(); ++k)
        if (v.nodes[j].inputs[k] == int(i)) ++readers, reader = int(j);
    if (s.entry == "forward" && readers == 1 && v.nodes[std::size_t(reader)].op == Op::batch_norm)
      sp.fused_reader[int(i)] = reader;
  }
  return sp;
}

double layer_cost(const Space& sp, const Measurement& m, int node) {
  auto at = [&](int n) { auto it = m.node_ms.find(n); return it == m.node_ms.end() ? 0.0 : it->second; };
  const auto fused = sp.fused_reader.find(node);
  return at(node) + (fused == sp.fused_reader.end() ? 0.0 : at(fused->second));
}

// The journal: every measurement as one line, "<knobs text> <total ms> <node>=<ms> ...".
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
        if (eq != std::string::npos) m.node_ms[std::stoi(item.substr(0, eq))] = std::stod(item.substr(eq + 1));
      }
      if (whole) done_[text] = m;
    }
  }
  const Measurement* find(const std::string& text) const {
    auto it = done_.find(text);
    return it == done_.end() ? nullptr : &it->second;
  }
  void add(const std::string& text, const Measurement& m) {
    std::string line = fmt::format("{} {:.5f}", text, m.total_ms);
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

struct Search {
  const Setup& s;
  const Space& space;
  Journal journal;
  Clock::time_point start = Clock::now();
  double budget_s;
  int jobs, calls;
  int tried = 0;
  double default_ms = 0, best_ms = 0;

  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start).count(); }
  // The search stops early enough for the last steps (the winner's profile, two builds
  // and the end-to-end comparison: about three candidates' time) to end within the budget.
  bool out_of_time() const {
    const double per_candidate = tried > 0 ? elapsed() / tried : 0;
    return elapsed() + 3 * per_candidate >= budget_s;
  }
  void progress(std::string_view what) const {
    const int width = 30, done = std::min(width, int(width * elapsed() / budget_s));
    const std::string best = default_ms > 0 ? fmt::format("best {:.3f} ms (default {:.3f})", best_ms, default_ms) : "";
    fmt::print("\r[{}{}] {:4.0f}/{:.0f} s  {} candidates  {}  {:<40}", std::string(std::size_t(done), '#'),
               std::string(std::size_t(width - done), ' '), elapsed(), budget_s, journal.size(), best,
               what.substr(0, 40));
    std::fflush(stdout);
  }

  // Profiles of the candidates (journaled ones are not measured again): built `jobs` at a
  // time, measured one at a time.
  std::vector<Measurement> profile(const std::vector<Knobs>& candidates) {
    std::vector<Measurement> out(candidates.size());
    std::vector<std::size_t> todo;
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      if (const Measurement* m = journal.find(knobs_text(candidates[k]))) out[k] = *m;
      else todo.push_back(k);
    }
    for (std::size_t first = 0; first < todo.size() && !out_of_time(); first += std::size_t(jobs)) {
      const std::size_t last = std::min(todo.size(), first + std::size_t(jobs));
      std::vector<std::future<fs::path>> built;
      for (std::size_t k = first; k < last; ++k)
        built.push_back(std::async(std::launch::async, [&, k] { return build(s, candidates[todo[k]], true); }));
      for (std::size_t k = first; k < last; ++k) {
        const std::string text = knobs_text(candidates[todo[k]]);
        progress(text);
        try {
          const fs::path so = built[k - first].get();
          Measurement m = run_child(s, {so}, calls)[0];
          journal.add(text, m);
          out[todo[k]] = m;
        } catch (const Error& e) {  // a candidate that fails to build or run is skipped
          fmt::print("\nkiln tune: skipped {}: {}\n", text, e.what());
          out[todo[k]].total_ms = -1;
        }
        ++tried;
      }
    }
    return out;
  }
};

// Every layer given value `value` of knob `name` where its declaration allows it.
Knobs everywhere(const Space& sp, const ModelView& v, const std::string& name, const std::string& value) {
  Knobs k;
  for (int node : sp.nodes)
    for (const tune::KnobSpec& spec : sp.specs.at(node))
      if (spec.name == name && std::find(spec.values.begin(), spec.values.end(), value) != spec.values.end())
        k[std::string(v.nodes[std::size_t(node)].name.view())][name] = value;
  return k;
}

double parse_budget(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  const std::string unit = end ? std::string(end) : "";
  const double scale = unit == "" || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : -1;
  if (!(v > 0) || scale < 0) fail("--budget: '{}' is not a duration such as 90s, 20m or 1h", text);
  return v * scale;
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
  lettering::draw_label(img, 2, 12, "LAYERS:", white, black);
  lettering::draw_label(img, 2 + lettering::label_width("LAYERS:"), 12, "DEFAULT", gray, black);
  lettering::draw_label(img, 2 + lettering::label_width("LAYERS:DEFAULT"), 12, "TUNED", green, black);
  save_png(path, img);
}

int report(const Setup& s, const Flags& flags) {
  const tune::TunedRecord r = tune::parse_record(read_file(s.record.string(), "tuned record"));
  fmt::print("{} {} on {} at batch {} ({} policy): {:.3f} ms by default, {:.3f} ms tuned: {:.2f}x\n", r.model, r.entry,
             r.target, r.batch, r.policy, r.default_ms, r.tuned_ms, r.default_ms / std::max(1e-9, r.tuned_ms));
  fmt::print("{:>3}  {:<24} {:>10} {:>10} {:>8}  {}\n", "#", "layer", "default ms", "tuned ms", "speedup", "knobs");
  for (std::size_t i = 0; i < r.layers.size(); ++i) {
    const tune::TunedLayer& l = r.layers[i];
    std::string knobs;
    for (const auto& [k, v] : l.knobs) knobs += k + "=" + v + " ";
    const bool timed = l.default_ms > 0 && l.tuned_ms > 0;  // the profiler saw the layer
    const double speedup = timed ? l.default_ms / l.tuned_ms : 1.0;
    fmt::print("{:>3}  {:<24} {:>10.4f} {:>10.4f} {:>8}  {}{}\n", i, l.name, l.default_ms, l.tuned_ms,
               timed ? fmt::format("{:.2f}x", speedup) : "-", knobs.empty() ? "(the policy's rule) " : knobs,
               timed && speedup < 1.05 ? "(default within 5 %)" : "");
  }
  const std::string chart = flags.text("chart", s.model->name + "." + s.entry + ".png");
  draw_chart(r, chart);
  fmt::print("chart: {}\n", chart);
  return 0;
}

}  // namespace

int tune_command(const std::vector<std::string>& args) {
  const Flags flags(args, {"target", "entry", "batch", "budget", "jobs", "calls", "record", "chart", "work", "measure"},
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
  const double budget_s = parse_budget(flags.text("budget", "20m"));
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

  // Round 1: the default, and each knob value on every layer that allows it.
  std::vector<Knobs> candidates{Knobs{}};
  std::set<std::pair<std::string, std::string>> values;
  for (int node : sp.nodes)
    for (const tune::KnobSpec& spec : sp.specs.at(node))
      for (std::size_t k = 1; k < spec.values.size(); ++k)
        if (!(spec.name == "lowering" && spec.values[k] == spec.values[0])) values.insert({spec.name, spec.values[k]});
  for (const auto& [name, value] : values) candidates.push_back(everywhere(sp, v, name, value));
  std::vector<Measurement> measured = search.profile(candidates);
  if (measured[0].total_ms <= 0) fail("the default build of {} could not be measured", model.name);
  search.default_ms = search.best_ms = measured[0].total_ms;

  // Each layer's best: the knobs of whichever candidate ran it fastest.
  auto best_of = [&](const std::vector<Knobs>& cands, const std::vector<Measurement>& ms, Knobs& winner,
                     std::map<int, double>& cost) {
    for (int node : sp.nodes) {
      const std::string name(v.nodes[std::size_t(node)].name.view());
      for (std::size_t c = 0; c < cands.size(); ++c) {
        if (ms[c].total_ms <= 0) continue;
        const double t = layer_cost(sp, ms[c], node);
        if (!cost.count(node) || t < cost[node]) {
          cost[node] = t;
          auto it = cands[c].find(name);
          if (it == cands[c].end()) winner.erase(name);
          else winner[name] = it->second;
        }
      }
    }
  };
  Knobs winner;
  std::map<int, double> cost;
  best_of(candidates, measured, winner, cost);

  // Round 2 on: the combined winner, then pairs of knobs on each layer (a lowering with
  // each tile), as long as the budget lasts, a layer's best kept after each.
  std::vector<Knobs> next{winner};
  for (int node : sp.nodes) {
    const std::string name(v.nodes[std::size_t(node)].name.view());
    for (const tune::KnobSpec& tile : sp.specs.at(node))
      if (tile.name == "tile")
        for (const tune::KnobSpec& lowering : sp.specs.at(node))
          if (lowering.name == "lowering")
            for (const std::string& l : lowering.values)
              for (std::size_t t = 1; t < tile.values.size(); ++t) {
                Knobs k = winner;
                k[name]["lowering"] = l;
                k[name]["tile"] = tile.values[t];
                next.push_back(k);
              }
  }
  for (std::size_t first = 0; first < next.size() && !search.out_of_time(); first += 8) {
    std::vector<Knobs> batch(next.begin() + long(first), next.begin() + long(std::min(next.size(), first + 8)));
    const std::vector<Measurement> ms = search.profile(batch);
    best_of(batch, ms, winner, cost);
    for (const Measurement& m : ms)
      if (m.total_ms > 0) search.best_ms = std::min(search.best_ms, m.total_ms);
  }

  // The winner's own profile (its layers' times as combined), then the winner against the
  // default, end to end, in one process, unprofiled.
  const Measurement won = search.profile({winner})[0];
  search.progress("final: the winner against the default");
  const fs::path a = build(s, Knobs{}, false), b = build(s, winner, false);
  const std::vector<Measurement> ab = run_child(s, {a, b}, search.calls);
  const bool better = ab[1].total_ms < ab[0].total_ms;
  fmt::print("\n");

  tune::TunedRecord r = candidate_record(s, Knobs{});
  r.layers.clear();
  const Measurement* defaults = search.journal.find(knobs_text(Knobs{}));
  for (int node : sp.nodes) {
    const std::string name(v.nodes[std::size_t(node)].name.view());
    tune::TunedLayer l{name, tune::layer_signature(v, node), {}, layer_cost(sp, *defaults, node),
                       won.total_ms > 0 ? layer_cost(sp, won, node) : cost[node]};
    if (better && winner.count(name)) l.knobs = winner.at(name);
    if (!better) l.tuned_ms = l.default_ms;
    r.layers.push_back(l);
  }
  r.default_ms = ab[0].total_ms;
  r.tuned_ms = better ? ab[1].total_ms : ab[0].total_ms;
  write_file_atomically(s.record.string(), tune::record_text(r));
  fmt::print("{} {} at batch {}: default {:.3f} ms, tuned {:.3f} ms ({:.2f}x) after {} candidates in {:.0f} s{}\n",
             model.name, s.entry, s.batch, ab[0].total_ms, ab[1].total_ms, ab[0].total_ms / ab[1].total_ms,
             search.journal.size(), search.elapsed(), better ? "" : "; the default stays (the winner was not faster)");
  fmt::print("wrote {}\n", s.record.string());
  return 0;
}

}  // namespace kiln::cli
