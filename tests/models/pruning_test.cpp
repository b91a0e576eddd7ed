// Structured pruning of the MLP intermediate neurons on a tiny random BERT (hidden 32, 2 layers,
// 4 heads, intermediate 64): which neurons go, zeroed == removed, sizes, the schedule, weight x
// gradient scores and NF4 slots. Each case well under a second.
#include <catch2/catch.hpp>

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <algorithm>

#include "bert.h"
#include "lora.h"
#include "nf4.h"
#include "opsbench/core/error.h"
#include "pruning.h"

using namespace opsbench;
using namespace opsbench::models;

namespace {

BertModel tiny_model(std::uint64_t seed) {
  BertConfig c;
  c.vocab_size = 50;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 64;
  c.max_position_embeddings = 16;
  torch::manual_seed(seed);
  BertModel m(c);
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters()) p.normal_(0.0, 0.2);  // non-zero biases too
  m->eval();
  return m;
}

torch::Tensor ids() {
  torch::manual_seed(7);
  return torch::randint(1, 50, {2, 8}, torch::kLong);
}
torch::Tensor mask() { return torch::ones({2, 8}, torch::kLong); }

torch::Tensor hidden_of(BertModel& m) {
  torch::NoGradGuard no_grad;
  return m->forward(ids(), mask()).last_hidden_state;
}

std::shared_ptr<DenseProjectionImpl> dense(BertModel& m, std::int64_t layer, Slot slot) {
  auto d = std::dynamic_pointer_cast<DenseProjectionImpl>(m->projection(layer, slot));
  REQUIRE(d);
  return d;
}

}  // namespace

TEST_CASE("magnitude pruning removes the weakest neurons; zeroed equals removed", "[models][pruning]") {
  BertModel model = tiny_model(1), zeroed = tiny_model(1);
  // Make six neurons of layer 0 clearly the weakest.
  const std::vector<std::int64_t> weak = {3, 10, 11, 40, 41, 63};
  {
    torch::NoGradGuard no_grad;
    for (std::int64_t j : weak) {
      dense(model, 0, Slot::kIntermediate)->weight[j].mul_(0.01);
      dense(model, 0, Slot::kOutput)->weight.select(1, j).mul_(0.01);
      dense(zeroed, 0, Slot::kIntermediate)->weight[j].mul_(0.01);
      dense(zeroed, 0, Slot::kOutput)->weight.select(1, j).mul_(0.01);
    }
  }
  const auto scores = magnitude_importance(model);
  REQUIRE(scores.size() == 2);
  const torch::Tensor w_in = dense(model, 1, Slot::kIntermediate)->weight.detach();
  const torch::Tensor w_out = dense(model, 1, Slot::kOutput)->weight.detach();
  CHECK(scores[1][5].item<double>() ==
        Approx(std::sqrt((w_in[5].square().sum() + w_out.select(1, 5).square().sum()).item<double>())));
  const std::int64_t total_before = count_parameters(*model).total;
  const PruneReport report = prune_mlp_step(model, scores, 0.1);  // round(6.4) = 6 per layer
  CHECK(report.original == 64);
  CHECK(report.removed == std::vector<std::int64_t>{6, 6});
  CHECK(report.remaining == std::vector<std::int64_t>{58, 58});
  CHECK(report.removed_neurons[0] == weak);
  CHECK(report.total_removed() == 12);
  CHECK(model->intermediate_size(0) == 58);
  CHECK(dense(model, 0, Slot::kOutput)->in_features() == 58);
  // Each neuron is hidden + 1 (row and bias of intermediate.dense) + hidden (column of output.dense).
  CHECK(count_parameters(*model).total == total_before - 12 * (32 + 1 + 32));
  // The unpruned model with the removed neurons' rows and biases zeroed computes the same.
  {
    torch::NoGradGuard no_grad;
    for (std::int64_t layer = 0; layer < 2; ++layer) {
      for (std::int64_t j : report.removed_neurons[static_cast<std::size_t>(layer)]) {
        dense(zeroed, layer, Slot::kIntermediate)->weight[j].zero_();
        dense(zeroed, layer, Slot::kIntermediate)->bias[j].zero_();
      }
    }
  }
  CHECK(torch::allclose(hidden_of(model), hidden_of(zeroed), 1e-5, 1e-5));
  // The kept neurons keep their order: row 0 of the pruned layer 0 is the old row 0, row 3 the old 4.
  CHECK(
      torch::equal(dense(model, 0, Slot::kIntermediate)->weight[3], dense(zeroed, 0, Slot::kIntermediate)->weight[4]));
}

TEST_CASE("pruning steps remove a fraction of the original count each", "[models][pruning]") {
  BertModel model = tiny_model(2);
  std::vector<std::int64_t> remaining;
  for (int step = 0; step < 5; ++step) {
    const PruneReport r = prune_mlp_step(model, magnitude_importance(model), 0.1);
    remaining.push_back(r.remaining[0]);
    CHECK(r.remaining[1] == r.remaining[0]);
    if (step == 4) CHECK(r.pruned_fraction() == Approx(0.5));
  }
  CHECK(remaining == std::vector<std::int64_t>{58, 51, 45, 38, 32});  // round(k x 6.4) gone after k steps
  // Never the last neuron.
  for (int step = 0; step < 12; ++step) prune_mlp_step(model, magnitude_importance(model), 0.1);
  CHECK(model->intermediate_size(0) == 1);
  CHECK(model->intermediate_size(1) == 1);
  CHECK(hidden_of(model).isfinite().all().item<bool>());
}

TEST_CASE("weight x gradient importance from trainable dense MLP weights", "[models][pruning]") {
  BertModel model = tiny_model(3);
  model->train();
  GradientImportance importance(model);
  torch::Tensor expect = torch::zeros({64});
  for (int step = 0; step < 2; ++step) {
    model->zero_grad();
    model->forward(ids(), mask()).pooled.sum().backward();
    importance.accumulate();
    auto in = dense(model, 1, Slot::kIntermediate), out = dense(model, 1, Slot::kOutput);
    expect += (in->weight * in->weight.grad()).abs().sum(1).detach() +
              (out->weight * out->weight.grad()).abs().sum(0).detach();
  }
  CHECK(importance.steps() == 2);
  const auto scores = importance.scores();
  CHECK(torch::allclose(scores[1], expect, 1e-5, 1e-7));
  const PruneReport r = prune_mlp_step(model, scores, 0.25);
  // The 16 lowest-scoring neurons of layer 1 are the ones that went.
  const torch::Tensor lowest = std::get<0>(std::get<1>(expect.sort()).narrow(0, 0, 16).sort());
  CHECK(r.removed_neurons[1] ==
        std::vector<std::int64_t>(lowest.data_ptr<std::int64_t>(), lowest.data_ptr<std::int64_t>() + 16));
  // Frozen dense MLP weights have no gradient to read.
  BertModel frozen = tiny_model(3);
  for (auto& p : frozen->parameters()) p.set_requires_grad(false);
  CHECK_THROWS_AS(GradientImportance(frozen), ConfigError);
  BertModel unused = tiny_model(3);
  CHECK_THROWS_AS(GradientImportance(unused).scores(), ModelError);
}

TEST_CASE("pruning a QLoRA encoder: NF4 slots capture gradients and are rebuilt as NF4", "[models][pruning][nf4]") {
  BertModel model = tiny_model(4);
  quantize_base(model);
  apply_lora(model, 2, 4.0, 0.0);
  freeze_except_adapters(*model);
  std::int64_t bytes_before = 0;
  for (const auto& b : model->buffers()) bytes_before += static_cast<std::int64_t>(b.nbytes());
  std::vector<torch::Tensor> kept_rows;
  std::vector<torch::Tensor> scores;
  {
    GradientImportance importance(model);
    model->train();
    for (int step = 0; step < 2; ++step) {
      model->zero_grad();
      model->forward(ids(), mask()).pooled.sum().backward();
      importance.accumulate();
    }
    scores = importance.scores();
  }
  CHECK_FALSE(std::dynamic_pointer_cast<Nf4ProjectionImpl>(model->projection(0, Slot::kOutput))->capturing());
  REQUIRE(scores.size() == 2);
  CHECK(scores[0].sizes() == torch::IntArrayRef({64}));
  CHECK(scores[0].min().item<double>() > 0);
  model->eval();
  const torch::Tensor w_in = model->projection(0, Slot::kIntermediate)->effective_weight();
  const torch::Tensor w_out = model->projection(0, Slot::kOutput)->effective_weight();
  const PruneReport r = prune_mlp_step(model, scores, 0.5);
  CHECK(r.remaining == std::vector<std::int64_t>{32, 32});
  auto in = std::dynamic_pointer_cast<Nf4ProjectionImpl>(model->projection(0, Slot::kIntermediate));
  auto out = std::dynamic_pointer_cast<Nf4ProjectionImpl>(model->projection(0, Slot::kOutput));
  REQUIRE(in);
  REQUIRE(out);
  // Re-quantised from the kept dequantised rows / columns: within one code step of the new blocks.
  std::vector<std::int64_t> keep;
  for (std::int64_t j = 0; j < 64; ++j) {
    const auto& gone = r.removed_neurons[0];
    if (!std::binary_search(gone.begin(), gone.end(), j)) keep.push_back(j);
  }
  const torch::Tensor idx = torch::tensor(keep, torch::kLong);
  CHECK((in->effective_weight() - w_in.index_select(0, idx)).abs().max().item<double>() <=
        0.152 * w_in.abs().max().item<double>());
  CHECK((out->effective_weight() - w_out.index_select(1, idx)).abs().max().item<double>() <=
        0.152 * w_out.abs().max().item<double>());
  std::int64_t bytes_after = 0;
  for (const auto& b : model->buffers()) bytes_after += static_cast<std::int64_t>(b.nbytes());
  CHECK(bytes_after < bytes_before);
  CHECK(hidden_of(model).isfinite().all().item<bool>());
}

TEST_CASE("pruning rejects bad fractions, scores and LoRA-wrapped MLP slots", "[models][pruning]") {
  BertModel model = tiny_model(5);
  const auto scores = magnitude_importance(model);
  CHECK_THROWS_AS(prune_mlp_step(model, scores, 0.0), ConfigError);
  CHECK_THROWS_AS(prune_mlp_step(model, scores, 1.5), ConfigError);
  CHECK_THROWS_AS(prune_mlp_step(model, {scores[0]}, 0.1), ConfigError);
  CHECK_THROWS_AS(prune_mlp_step(model, {scores[0].narrow(0, 0, 10), scores[1]}, 0.1), ConfigError);
  CHECK_THROWS_AS(shrink_mlp(model, 0, {5, 3}), ConfigError);
  CHECK_THROWS_AS(shrink_mlp(model, 0, {}), ConfigError);
  CHECK(parse_neuron_importance("weight_gradient") == NeuronImportance::kWeightGradient);
  CHECK_THROWS_WITH(parse_neuron_importance("taylor"), Catch::Contains("magnitude, weight_gradient"));
  apply_lora(model, 2, 4.0, 0.0, {Slot::kIntermediate});
  CHECK_THROWS_AS(prune_mlp_step(model, scores, 0.1), ConfigError);
  CHECK_THROWS_AS(GradientImportance(model), ConfigError);
}

#endif  // OPSBENCH_HAVE_TORCH
