// Inference latency of the parameter-efficient encoders on a MiniLM-sized BERT (all-MiniLM-L6-v2's
// shape: 6 layers, hidden 384, 12 heads, intermediate 1536; random weights, vocabulary 1000 since
// the vocabulary does not change the cost), sequence 128, batch 1 and 8. Issue 6's target: NF4
// dequantisation plus unmerged LoRA add at most 15% latency over the merged float32 model.
//
// BM_Encoder/<variant>/<batch>: one forward pass (eval, no autograd) of
//   0 merged float32 (what a merged LoRA model runs), 1 NF4 base + LoRA r 8 on query/value
//   unmerged (QLoRA inference without merging), 2 NF4 base alone, 3 float32 base + LoRA unmerged,
//   4 NF4 base + double quantisation + LoRA, 5 merged float32 with 50% of the MLP neurons pruned.
// BM_QloraOverMerged/<batch>: merged and NF4 + LoRA forwards alternated in one loop, so that load
// from other processes hits both alike; reports both medians and their ratio (the figure to quote).
// BM_QloraPolicy/<batch>/<policy>: the same under each way the encoder pass can write the NF4 and
// LoRA weights (encoder_pass.h, MaterialisePolicy): 0 the default (fused blocks up to 512 rows per
// block product, whole blocked weights above), 1 whole blocked weights always (stage M), 2 plain
// rows (oneDNN re-packs them inside every product).
// BM_Dequantise/<simd>: dequantising all 36 NF4 weights of the stack once (what variant 1 adds to a
// forward), AVX-512 lookup vs the portable byte table.
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <vector>

#include "bert.h"
#include "encoder_pass.h"
#include "lora.h"
#include "nf4.h"
#include "pruning.h"

namespace {

using namespace opsbench::models;

constexpr std::int64_t kLength = 128;

BertConfig minilm_config() {
  BertConfig c;
  c.vocab_size = 1000;
  c.hidden_size = 384;
  c.num_hidden_layers = 6;
  c.num_attention_heads = 12;
  c.intermediate_size = 1536;
  return c;
}

// Every variant starts from the same random weights (seeded), so the merged model is the exact
// merge of the LoRA ones.
BertModel make_variant(int variant) {
  torch::manual_seed(11);
  BertModel m(minilm_config());
  m->eval();
  if (variant == 1 || variant == 2 || variant == 4) quantize_base(m, variant == 4);
  if (variant == 1 || variant == 3 || variant == 4 || variant == 0) {
    torch::manual_seed(12);
    apply_lora(m, 8, 16.0, 0.05);
    torch::NoGradGuard no_grad;
    for (auto& p : m->named_parameters()) {
      if (p.key().find("lora_B") != std::string::npos) p.value().normal_(0.0, 0.01);  // as if trained
    }
  }
  if (variant == 0) merge_lora(m);
  if (variant == 5) {
    for (int step = 0; step < 5; ++step) prune_mlp_step(m, magnitude_importance(m), 0.1);
  }
  m->eval();
  return m;
}

BertModel& variant_model(int variant) {
  static std::map<int, BertModel> models;
  auto it = models.find(variant);
  if (it == models.end()) it = models.emplace(variant, make_variant(variant)).first;
  return it->second;
}

struct Inputs {
  torch::Tensor ids, mask;
};
Inputs make_inputs(std::int64_t batch) {
  torch::manual_seed(13);
  return {torch::randint(1, 1000, {batch, kLength}, torch::kLong), torch::ones({batch, kLength}, torch::kLong)};
}

void add_context(benchmark::State& state) { state.counters["torch_threads"] = at::get_num_threads(); }

void BM_Encoder(benchmark::State& state) {
  const int variant = static_cast<int>(state.range(0));
  const Inputs in = make_inputs(state.range(1));
  BertModel& m = variant_model(variant);
  torch::NoGradGuard no_grad;
  m->forward(in.ids, in.mask);  // warm-up: scratch buffers, fused weights
  double per_sample_ms = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto out = m->forward(in.ids, in.mask);
    benchmark::DoNotOptimize(out.last_hidden_state.data_ptr());
    per_sample_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
                     static_cast<double>(state.range(1));
  }
  add_context(state);
  state.counters["per_sample_ms"] = benchmark::Counter(per_sample_ms, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_Encoder)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {1, 8}})
    ->ArgNames({"variant", "batch"})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime();

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

void qlora_over_merged(benchmark::State& state, std::int64_t policy) {
  const MaterialisePolicy saved = materialise_policy();  // restored at the end
  if (policy == 1) materialise_policy().most_fused_rows = 0;
  if (policy == 2) materialise_policy().blocked = false;
  const Inputs in = make_inputs(state.range(0));
  BertModel& merged = variant_model(0);
  BertModel& qlora = variant_model(1);
  torch::NoGradGuard no_grad;
  {
    // The two must compute nearly the same function (NF4 rounding only), or the ratio means nothing.
    const torch::Tensor a = merged->forward(in.ids, in.mask).last_hidden_state;
    const torch::Tensor b = qlora->forward(in.ids, in.mask).last_hidden_state;
    state.counters["max_abs_diff"] = (a - b).abs().max().item<double>();
  }
  // Wall and process CPU time of each forward. On a loaded machine the CPU time (all torch threads
  // together) is the steadier measure of the work done; the wall time is what a user sees.
  std::vector<double> tm, tq, cm, cq;
  using clock = std::chrono::steady_clock;
  // Which model runs first alternates, so cache state left by the other model favours neither.
  bool merged_first = true;
  const auto timed = [](BertModel& m, const Inputs& x, std::vector<double>& wall, std::vector<double>& cpu) {
    const std::clock_t c0 = std::clock();
    const auto t0 = clock::now();
    benchmark::DoNotOptimize(m->forward(x.ids, x.mask).last_hidden_state.data_ptr());
    wall.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
    cpu.push_back(1e3 * static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
  };
  for (auto _ : state) {
    if (merged_first) {
      timed(merged, in, tm, cm);
      timed(qlora, in, tq, cq);
    } else {
      timed(qlora, in, tq, cq);
      timed(merged, in, tm, cm);
    }
    merged_first = !merged_first;
  }
  add_context(state);
  state.counters["merged_ms"] = median(tm);
  state.counters["qlora_ms"] = median(tq);
  state.counters["ratio"] = median(tq) / median(tm);
  state.counters["merged_cpu_ms"] = median(cm);
  state.counters["qlora_cpu_ms"] = median(cq);
  state.counters["cpu_ratio"] = median(cq) / median(cm);
  materialise_policy() = saved;
}
void BM_QloraOverMerged(benchmark::State& state) { qlora_over_merged(state, 0); }
BENCHMARK(BM_QloraOverMerged)
    ->Arg(1)
    ->Arg(8)
    ->ArgName("batch")
    ->Unit(benchmark::kMillisecond)
    ->MinTime(8.0)
    ->UseRealTime();

void BM_QloraPolicy(benchmark::State& state) { qlora_over_merged(state, state.range(1)); }
BENCHMARK(BM_QloraPolicy)
    ->ArgsProduct({{1, 8}, {0, 1, 2}})
    ->ArgNames({"batch", "policy"})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(8.0)
    ->UseRealTime();

void BM_Dequantise(benchmark::State& state) {
  const bool simd = state.range(0) != 0;
  BertModel& m = variant_model(2);
  std::vector<Nf4Tensor> weights;
  std::int64_t largest = 0, total = 0;
  for (std::int64_t l = 0; l < m->num_layers(); ++l) {
    for (Slot s :
         {Slot::kQuery, Slot::kKey, Slot::kValue, Slot::kAttentionOutput, Slot::kIntermediate, Slot::kOutput}) {
      weights.push_back(std::dynamic_pointer_cast<Nf4ProjectionImpl>(m->projection(l, s))->quantised_weight());
      largest = std::max(largest, weights.back().numel);
      total += weights.back().numel;
    }
  }
  std::vector<float> out(static_cast<std::size_t>(largest));
  for (auto _ : state) {
    for (const auto& w : weights) nf4_dequantize_into(w, out.data(), simd);
    benchmark::ClobberMemory();
  }
  add_context(state);
  state.counters["weights"] = static_cast<double>(total);
  state.SetBytesProcessed(state.iterations() * total * static_cast<std::int64_t>(sizeof(float)));
}
BENCHMARK(BM_Dequantise)->Arg(1)->Arg(0)->ArgName("simd")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
