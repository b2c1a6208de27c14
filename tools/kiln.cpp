// kiln: train, evaluate and run the models built into this binary.
//   kiln train MODEL [--epochs N --batch B --lr X --optimizer O --lr-schedule S
//                     --weight-decay W --augment K --seed S --out FILE --data DIR --target T]
//   kiln eval MODEL --weights FILE
//   kiln predict MODEL --weights FILE IMAGE.png
//   kiln forward MODEL --weights FILE --inputs FILE --out FILE
//   kiln gradients MODEL --weights FILE --inputs FILE --out FILE [--seed S]
//   kiln train char-lstm [--text FILE|FOLDER --minutes M --clip C ...]
//   kiln sample char-lstm --weights FILE [--prime TEXT --length N --temperature T --seed S]
//   kiln scenes --out DIR [--count N --size S --first I --seed S --objects K]
//   kiln captions --out DIR [--count N --first I --seed S]
//   kiln predict captioner --weights FILE IMAGE.png [--attention STRIP.png]
//   kiln tune MODEL [--entry E --batch B --budget 20m --jobs N --seconds S] | --report
//   kiln models
// Errors print one line to stderr and exit with status 1.
#include "runtime/error.hpp"
#include "tools/commands.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <map>

namespace {

const char* usage = R"(usage: kiln COMMAND MODEL [flags]
  train MODEL      train on the model's data set; writes MODEL.safetensors (--out)
                   --epochs N --batch B --lr X --optimizer sgd|momentum|nesterov|adagrad|rmsprop|adam
                   --lr-schedule constant|step|exponential|inverse_time|cosine
                   --weight-decay W --clip NORM (global gradient norm) --minutes M (stop
                   after M minutes) --augment PIXELS --seed S --out FILE --data DIR --target cpu
                   language models (char-rnn, char-lstm): --text FILE|FOLDER (default: the
                   fortunes files)
  eval MODEL       held-out accuracy of --weights FILE (language models: bits per character)
  sample MODEL     text from a language model: --weights FILE --prime TEXT --length N
                   --temperature T --seed S
  predict MODEL    class and probabilities of one PNG image: --weights FILE IMAGE.png
                   (a spatial transformer's: --out FILE, the image it resampled; a
                   captioner's: its caption, --attention FILE where it looked per word)
  forward MODEL    --weights FILE --inputs X.safetensors --out Y.safetensors  (tensor 'input' -> 'output';
                   inference: batch norm's running statistics, no dropout)
  gradients MODEL  --weights FILE --inputs X.safetensors --out G.safetensors  ('input', 'labels' ->
                   'loss', 'grad.<parameter>', 'grad.input'; training mode: batch statistics,
                   dropout drawn from --seed S, default 0)
  scenes           procedural scenes of shapes as PNG files, with their true classes:
                   --out DIR --count N --size S --objects K (default the held-out scenes: --first 100000)
  captions         procedural captioning images as PNG files, with their true captions:
                   --out DIR --count N --first I (default the held-out set, --seed 1)
  tune MODEL       search the layers' schedule knobs on this machine and write a tuned record
                   (schedules/tuned/TARGET/MODEL.ENTRY.txt) that the next build applies:
                   --entry forward|gradients|train_step --batch B --budget 20m --jobs N
                   --seconds S (each build's least running time per measurement, default 3)
                   --report: the record's per-layer default, tuned and best times, and a PNG chart
                   (--chart FILE)
  models           list the models built into this binary
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace kiln::cli;
  const std::map<std::string, int (*)(const std::vector<std::string>&)> commands{
      {"train", train}, {"eval", eval}, {"predict", predict},
      {"forward", forward}, {"gradients", gradients}, {"models", models}, {"sample", sample},
      {"scenes", scenes_command}, {"captions", captions_command}, {"tune", tune_command}};
  if (argc < 2 || std::string(argv[1]) == "help" || std::string(argv[1]) == "--help") {
    std::fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  auto it = commands.find(argv[1]);
  if (it == commands.end()) {
    fmt::print(stderr, "kiln: unknown command '{}' (known: train, eval, predict, sample, scenes, captions, forward, gradients, tune, models)\n", argv[1]);
    return 2;
  }
  try {
    return it->second(std::vector<std::string>(argv + 2, argv + argc));
  } catch (const kiln::Error& e) {
    fmt::print(stderr, "kiln {}: {}\n", argv[1], e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "kiln {}: internal error: {}\n", argv[1], e.what());
    return 1;
  }
}
