#include "tune/knobs.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iostream>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace kiln::tune {

namespace {

// The register tiles cpu_channels may take (tile_for's candidates and a few more).
constexpr TileKnob tiles[] = {{4, 4}, {2, 7}, {2, 8}, {2, 6}, {3, 5}, {4, 3}, {1, 8}, {2, 4}, {4, 2}, {1, 4}};

std::string shape_text(Shape s) {
  std::string out;
  for (int k = 0; k < s.rank; ++k) out += (k ? "x" : "") + std::to_string(s[k]);
  return out;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t k = 0;
  while (k < line.size()) {
    while (k < line.size() && line[k] == ' ') ++k;
    const std::size_t start = k;
    while (k < line.size() && line[k] != ' ') ++k;
    if (k > start) out.push_back(line.substr(start, k - start));
  }
  return out;
}

double number(std::string_view text, const std::string& where) {
  double v = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (error != std::errc() || end != text.data() + text.size() || !(v >= 0))
    throw std::invalid_argument(where + ": '" + std::string(text) + "' is not a non-negative number");
  return v;
}

std::string ms(double v) {
  char s[32];
  std::snprintf(s, sizeof s, "%.4f", v);
  return s;
}

}  // namespace

std::string_view lowering_name(ConvLowering l) {
  switch (l) {
    case ConvLowering::direct: return "direct";
    case ConvLowering::im2col: return "im2col";
    case ConvLowering::winograd: return "winograd";
  }
  return "?";
}

std::optional<ConvLowering> lowering_named(std::string_view name) {
  for (ConvLowering l : {ConvLowering::direct, ConvLowering::im2col, ConvLowering::winograd})
    if (lowering_name(l) == name) return l;
  return std::nullopt;
}

bool winograd_applies(const Node& node) {
  return node.op == Op::conv2d && node.kernel_w == 3 && node.kernel_h == 3 && node.stride_w == 1 &&
         node.stride_h == 1 && node.dilation_w == 1 && node.dilation_h == 1 && node.groups == 1;
}

std::string_view knob(const Knobs& knobs, std::string_view layer, std::string_view name) {
  const auto l = knobs.find(layer);
  if (l == knobs.end()) return "rule";
  const auto k = l->second.find(name);
  return k == l->second.end() ? std::string_view("rule") : std::string_view(k->second);
}

std::string_view cpu_layout_name(std::string_view asked, const ModelView& model, int batch_estimate) {
  if (asked == "batch" || asked == "channels") return asked == "batch" ? "batch" : "channels";
  if (asked != "auto")
    throw std::invalid_argument("kiln: cpu_layout is auto, batch or channels, not '" + std::string(asked) + "'");
  int widest = 0;
  for (const Node& node : model.nodes)
    if (node.op == Op::conv2d) widest = std::max(widest, node.units);
  return widest >= 32 || batch_estimate < 16 ? "channels" : "batch";
}

std::string_view policy_name(const ModelView& model, bool gpu, std::string_view cpu_layout, int batch_estimate) {
  if (gpu) return "gpu";
  if (model.input_shape().is_sequence()) return "sequence";
  // Image models keep the image policies, which hand their sequence nodes (a decoder's,
  // a two-stage detector's regions) to the sequence policy's node schedule.
  if (!model.input_shape().is_image())
    for (const Node& node : model.nodes)
      if (is_recurrent(node.op) || node.op == Op::embedding || node.op == Op::one_hot) return "sequence";
  return cpu_layout_name(cpu_layout, model, batch_estimate);
}

namespace {

std::string pair_text(int a, int b) { return std::to_string(a) + "x" + std::to_string(b); }

// cpu_simd's register tiles of `channels` x `width` values: C channels (a divisor) by P
// pixels, 4 to 24 accumulators (two FMA units want 8 independent chains; 32 registers).
KnobSpec batch_tiles(std::string name, int channels, int width, bool gradients) {
  KnobSpec spec{std::move(name), {"rule"}, gradients};
  for (int c = 1; c <= channels; ++c)
    for (int p = 1; p <= std::min(4, width); ++p)
      if (channels % c == 0 && c * p >= 4 && c * p <= 24) spec.values.push_back(pair_text(c, p));
  return spec;
}

std::vector<KnobSpec> channels_knobs(const Node& n) {
  KnobSpec lowering{"lowering", {"direct", "im2col"}};
  if (winograd_applies(n)) lowering.values.push_back("winograd");
  // Tiles whose pixels divide the row they run along: the output's width, or for
  // winograd its row of 2 x 2 tiles (the policy takes the rule where the lowering chosen
  // makes a tile's pixels not divide its row).
  const int width = n.shape.width(), tile_row = winograd_applies(n) ? (width + 1) / 2 : width;
  KnobSpec tile{"tile", {"rule"}};
  // (AVX-512's 16 lanes bound the vectors: no more than the output channels fill.)
  for (TileKnob t : tiles)
    if ((width % t.pixels == 0 || tile_row % t.pixels == 0) && t.vectors * 16 <= std::max(16, n.units))
      tile.values.push_back(pair_text(t.vectors, t.pixels));
  return {lowering, tile, {"tasks", {"rule", "rows", "tiles"}}};
}

std::vector<KnobSpec> batch_knobs(const ModelView& model, const Node& n) {
  const Shape in = model.nodes[std::size_t(n.inputs[0])].shape;
  if (n.op == Op::dense && n.shape.rank == 1 && in.rank == 1) {
    KnobSpec tile{"tile", {"rule"}}, d_in{"d_in_tile", {"rule"}, true};
    for (int rows : {4, 8, 12, 16, 24}) {
      if (rows <= n.shape[0]) tile.values.push_back(pair_text(rows, 1));
      if (rows <= in[0]) d_in.values.push_back(pair_text(rows, 1));
    }
    return {tile, d_in};
  }
  if (n.op != Op::conv2d || n.groups != 1) return {};
  KnobSpec d_weight{"d_weight", {"rule"}, true};
  for (int k = n.kernel_w; k >= 1; k = k > 1 ? std::min(k - 1, (k + 1) / 2) : 0)  // kw, about half, ..., 1
    for (int o : {1, 2, 3, 4, 6, 8})
      if (k * o >= 4 && k * o <= 28 && o <= n.shape.channels()) d_weight.values.push_back(pair_text(k, o));
  return {batch_tiles("tile", n.shape.channels(), n.shape.width(), false),
          batch_tiles("d_in_tile", in.channels(), in.width(), true), d_weight};
}

}  // namespace

std::vector<KnobSpec> knobs_of(std::string_view policy, const ModelView& model, int node) {
  const Node& n = model.nodes[std::size_t(node)];
  if (policy == "channels" && n.op == Op::conv2d) return channels_knobs(n);
  if (policy == "batch") return batch_knobs(model, n);
  return {};
}

int sole_batch_norm_reader(const ModelView& model, int node) {
  int readers = 0, reader = -1;
  for (std::size_t j = 1; j < model.nodes.size(); ++j)
    for (int k = 0; k < model.nodes[j].input_count(); ++k)
      if (model.nodes[j].inputs[k] == node) ++readers, reader = int(j);
  return readers == 1 && model.nodes[std::size_t(reader)].op == Op::batch_norm ? reader : -1;
}

TileKnob tile_knob(std::string_view value) {
  const std::size_t x = value.find('x');
  if (value == "rule" || x == std::string_view::npos) return {};
  TileKnob t;
  std::from_chars(value.data(), value.data() + x, t.vectors);
  std::from_chars(value.data() + x + 1, value.data() + value.size(), t.pixels);
  return t.vectors > 0 && t.pixels > 0 ? t : TileKnob{};
}

std::string layer_signature(const ModelView& model, int node) {
  const Node& n = model.nodes[std::size_t(node)];
  const Shape in = model.nodes[std::size_t(n.inputs[0])].shape;
  return std::string(op_name(n.op)) + " " + shape_text(in) + "->" + shape_text(n.shape);
}

Knobs TunedRecord::knobs() const {
  Knobs out;
  for (const TunedLayer& l : layers) out[l.name] = l.knobs;
  return out;
}

std::string record_text(const TunedRecord& r) {
  std::ostringstream s;
  s << "# kiln tune record (tune/knobs.hpp): each layer's knobs and its measured times\n"
    << "model " << r.model << "\nentry " << r.entry << "\ntarget " << r.target << "\nbatch " << r.batch
    << "\npolicy " << r.policy << "\n";
  for (const TunedLayer& l : r.layers) {
    s << "layer " << l.name << " " << l.signature;
    for (const auto& [k, v] : l.knobs) s << " " << k << "=" << v;
    s << " default_ms=" << ms(l.default_ms) << " tuned_ms=" << ms(l.tuned_ms) << " tried=" << l.tried
      << " best_ms=" << ms(l.best_ms) << "\n";
  }
  s << "entry_ms default=" << ms(r.default_ms) << " tuned=" << ms(r.tuned_ms) << "\nend\n";
  return s.str();
}

TunedRecord parse_record(std::string_view text) {
  TunedRecord r;
  int line_number = 0;
  bool seen_entry_ms = false, ended = false;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    const std::string where = "line " + std::to_string(line_number);
    const std::vector<std::string_view> w = words(line);
    if (w.empty() || w[0][0] == '#') continue;
    if (ended) throw std::invalid_argument(where + ": text after 'end'");
    auto one = [&](std::string& field) {
      if (w.size() != 2) throw std::invalid_argument(where + ": expected '" + std::string(w[0]) + " VALUE'");
      field = w[1];
    };
    if (w[0] == "model") one(r.model);
    else if (w[0] == "entry") one(r.entry);
    else if (w[0] == "target") one(r.target);
    else if (w[0] == "policy") one(r.policy);
    else if (w[0] == "batch") {
      std::string b;
      one(b);
      const double v = number(b, where);
      if (v < 1 || v != int(v)) throw std::invalid_argument(where + ": the batch must be a positive whole number");
      r.batch = int(v);
    } else if (w[0] == "layer") {
      // layer NAME OP IN->OUT knob=value ... default_ms=T tuned_ms=T
      if (w.size() < 4 || w[3].find("->") == std::string_view::npos)
        throw std::invalid_argument(where + ": expected 'layer NAME OP IN->OUT knob=value ...'");
      TunedLayer l{std::string(w[1]), std::string(w[2]) + " " + std::string(w[3]), {}, 0, 0, 0, 0};
      for (std::size_t k = 4; k < w.size(); ++k) {
        const std::size_t eq = w[k].find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == w[k].size())
          throw std::invalid_argument(where + ": '" + std::string(w[k]) + "' is not knob=value");
        const std::string_view key = w[k].substr(0, eq), value = w[k].substr(eq + 1);
        if (key == "default_ms") l.default_ms = number(value, where);
        else if (key == "tuned_ms") l.tuned_ms = number(value, where);
        else if (key == "best_ms") l.best_ms = number(value, where);
        else if (key == "tried") l.tried = int(number(value, where));
        else l.knobs[std::string(key)] = std::string(value);
      }
      r.layers.push_back(std::move(l));
    } else if (w[0] == "end" && w.size() == 1) {
      ended = true;
    } else if (w[0] == "entry_ms") {
      if (w.size() != 3 || w[1].substr(0, 8) != "default=" || w[2].substr(0, 6) != "tuned=")
        throw std::invalid_argument(where + ": expected 'entry_ms default=T tuned=T'");
      r.default_ms = number(w[1].substr(8), where);
      r.tuned_ms = number(w[2].substr(6), where);
      seen_entry_ms = true;
    } else {
      throw std::invalid_argument(where + ": unknown field '" + std::string(w[0]) + "'");
    }
  }
  if (r.model.empty() || r.entry.empty() || r.target.empty() || r.policy.empty() || r.batch == 0 || !seen_entry_ms ||
      !ended)
    throw std::invalid_argument("incomplete: a record names its model, entry, target, batch and policy, then its entry_ms, and ends with 'end'");
  return r;
}

std::string record_mismatch(const TunedRecord& r, const ModelView& model, std::string_view entry,
                            std::string_view policy) {
  if (r.model != model.name) return "it is for the model " + r.model + ", not " + std::string(model.name);
  if (r.entry != entry) return "it is for the " + r.entry + " entry, not " + std::string(entry);
  if (r.policy != policy) return "it was tuned for the " + r.policy + " policy, not " + std::string(policy);
  for (const TunedLayer& l : r.layers) {
    int node = -1;
    for (std::size_t i = 0; i < model.nodes.size(); ++i)
      if (model.nodes[i].name.view() == l.name) node = int(i);
    if (node < 0) return "the model has no layer " + l.name;
    const std::string now = layer_signature(model, node);
    if (now != l.signature) return "layer " + l.name + " is now " + now + ", not " + l.signature;
    const std::vector<KnobSpec> specs = knobs_of(policy, model, node);
    for (const auto& [key, value] : l.knobs) {
      const KnobSpec* spec = nullptr;
      for (const KnobSpec& s : specs)
        if (s.name == key) spec = &s;
      if (!spec) return "layer " + l.name + " has no knob " + key;
      bool allowed = false;
      for (const std::string& v : spec->values) allowed |= v == value;
      if (!allowed) return "layer " + l.name + ": " + key + "=" + value + " is not one of its values";
    }
  }
  return "";
}

Knobs tuned_knobs(const std::string& path, const ModelView& model, std::string_view entry,
                  std::string_view policy, int batch_estimate) {
  std::string why;
  try {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw std::invalid_argument("cannot be read");
    std::ostringstream text;
    text << file.rdbuf();
    const TunedRecord record = parse_record(text.str());
    why = record_mismatch(record, model, entry, policy);
    if (why.empty() && record.batch != batch_estimate)
      why = "it was tuned at batch " + std::to_string(record.batch) + ", this build plans for " +
            std::to_string(batch_estimate);
    if (why.empty()) return record.knobs();
  } catch (const std::invalid_argument& e) {
    why = e.what();
  }
  std::cerr << "kiln: warning: " << path << ": " << why << "; building with the default schedule\n";
  return {};
}

}  // namespace kiln::tune
