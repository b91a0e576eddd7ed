// BERT encoder inference (models/src/bert.h) at batch 1 and 8, sequence 128: the shape the encoder
// issue fixes for the comparison with PyTorch 1.13 eager (bench/peers/torch_bert_forward.py, run
// side by side by bench/peers/compare_encoder.sh).
//
// Models: the real all-MiniLM-L6-v2 (find_pretrained; the benchmarks are skipped with a message when
// it is absent) and, when OPSBENCH_BERT_BASE_DIR names a folder with config.json + model.safetensors
// (compare_encoder.sh writes a random BERT-base-sized one there), that model too.
// Inputs: token ids from a fixed seed, [CLS] first and [SEP] last, no padding (mask all ones), as
// in the peer. Each iteration is one bert_infer() (eval mode, InferenceMode): BM_EncoderForward
// returns last_hidden_state and the pooled output; BM_EncoderPooled runs BertModelImpl::
// pooled_output (the classifier's path: the last layer for the first token only).
// Each sample is the mean of 3 passes after 2 warm-up passes (the peer's defaults).
// Arguments: batch, threads (at::set_num_threads; OpenBLAS threads are whatever the environment says).
//
// BM_DenseProduct isolates one product of the inference path, y = x W^T + b with W [out, in]:
// mode 0 = at::addmm (OpenBLAS, which re-packs W on every call, as PyTorch eager does), mode 1 =
// PackedLinear (W packed once for oneDNN; models/src/packed_linear.h), mode 2 = linear_unpacked
// (oneDNN reading W in its plain layout: what NF4 and LoRA weights, written afresh each forward,
// get). Args: rows, in, out, mode.
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "bert.h"
#include "opsbench/models/pretrained.h"
#include "opsbench/models/safetensors.h"
#include "packed_linear.h"

namespace {

using opsbench::models::BertModel;

constexpr std::int64_t kLength = 128;

// Loaded once per folder and kept for the whole run.
BertModel* model_from(const std::string& dir) {
  static std::map<std::string, std::unique_ptr<BertModel>> cache;
  auto& slot = cache[dir];
  if (!slot) {
    slot = std::make_unique<BertModel>(opsbench::models::BertConfig::from_json_file(dir + "/config.json"));
    opsbench::models::load_bert_weights(*slot, opsbench::models::read_safetensors(dir + "/model.safetensors"));
    (*slot)->eval();
  }
  return slot.get();
}

torch::Tensor token_ids(std::int64_t batch, std::int64_t vocab) {
  torch::Generator g = at::detail::createCPUGenerator(1234);
  torch::Tensor ids = torch::randint(1000, vocab, {batch, kLength}, g, torch::kInt64);
  ids.select(1, 0).fill_(101);
  ids.select(1, kLength - 1).fill_(102);
  return ids;
}

std::string model_dir(bool base) {
  if (!base) return opsbench::models::find_pretrained("all-MiniLM-L6-v2");
  const char* env = std::getenv("OPSBENCH_BERT_BASE_DIR");
  return env != nullptr ? env : "";
}

void run(benchmark::State& state, bool base, bool pooled_only) {
  const std::string dir = model_dir(base);
  if (dir.empty()) {
    state.SkipWithError(base ? "OPSBENCH_BERT_BASE_DIR is not set (compare_encoder.sh sets it)"
                             : opsbench::models::how_to_fetch("all-MiniLM-L6-v2").c_str());
    return;
  }
  const std::int64_t batch = state.range(0);
  at::set_num_threads(static_cast<int>(state.range(1)));
  BertModel& model = *model_from(dir);
  const torch::Tensor ids = token_ids(batch, model->config().vocab_size);
  const torch::Tensor mask = torch::ones_like(ids);
  for (int warmup = 0; warmup < 2; ++warmup) (void)opsbench::models::bert_infer(model, ids, mask);  // as the peer
  for (auto _ : state) {
    if (pooled_only) {
      c10::InferenceMode guard;
      benchmark::DoNotOptimize(model->pooled_output(ids, mask).data_ptr());
    } else {
      benchmark::DoNotOptimize(opsbench::models::bert_infer(model, ids, mask).pooled.data_ptr());
    }
  }
  state.counters["batch"] = static_cast<double>(batch);
  state.counters["threads"] = static_cast<double>(state.range(1));
}

void BM_MiniLMForward(benchmark::State& state) { run(state, false, false); }
void BM_MiniLMPooled(benchmark::State& state) { run(state, false, true); }
void BM_BertBaseForward(benchmark::State& state) { run(state, true, false); }
void BM_BertBasePooled(benchmark::State& state) { run(state, true, true); }

void args(benchmark::internal::Benchmark* b) {
  // Process CPU time (all threads), as the peer's time.process_time().
  b->ArgNames({"batch", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
  for (int threads : {1, 2}) {
    for (int batch : {1, 8}) b->Args({batch, threads});
  }
}

void BM_DenseProduct(benchmark::State& state) {
  const std::int64_t rows = state.range(0), in = state.range(1), out = state.range(2);
  const std::int64_t mode = state.range(3);
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({rows, in}), w = torch::randn({out, in}) * 0.02, b = torch::randn({out});
  torch::Tensor y = torch::empty({rows, out});
  opsbench::models::PackedLinear linear(w.data_ptr<float>(), b.data_ptr<float>(), out, in);
  c10::InferenceMode guard;
  for (auto _ : state) {
    if (mode == 1) {
      linear.apply(x.data_ptr<float>(), rows, in, y.data_ptr<float>(), out, {});
    } else if (mode == 2) {
      opsbench::models::linear_unpacked(x.data_ptr<float>(), rows, in, w.data_ptr<float>(), b.data_ptr<float>(), out, in,
                                        y.data_ptr<float>(), out);

    } else {
      at::addmm_out(y, b, x, w.t());
    }
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(rows * in * out), benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.SetLabel(mode == 1 ? "oneDNN packed" : mode == 2 ? "oneDNN plain layout" : "OpenBLAS addmm");
}
BENCHMARK(BM_DenseProduct)
    ->ArgNames({"rows", "in", "out", "mode"})
    ->ArgsProduct({{128, 1024}, {768}, {2304, 3072}, {0, 1, 2}})
    ->ArgsProduct({{128, 1024}, {3072}, {768}, {0, 1, 2}})
    ->ArgsProduct({{128}, {384}, {384, 1152, 1536}, {1, 2}})  // MiniLM's shapes
    ->ArgsProduct({{128}, {1536}, {384}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// 3 passes per sample, as the peer's --inner 3; compare_encoder.sh asks for repetitions.
BENCHMARK(BM_MiniLMForward)->Apply(args)->Iterations(3);
BENCHMARK(BM_MiniLMPooled)->Apply(args)->Iterations(3);
BENCHMARK(BM_BertBaseForward)->Apply(args)->Iterations(3);
BENCHMARK(BM_BertBasePooled)->Apply(args)->Iterations(3);

}  // namespace
