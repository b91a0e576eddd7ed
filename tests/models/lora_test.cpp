// LoRA adapters and QLoRA's quantised base: identity at initialisation, only adapters train,
// merging, parameter counts, and the encoder-level helpers on a tiny random BERT (hidden 32,
// 2 layers, 4 heads, intermediate 64). Each case well under a second.
#include <catch2/catch.hpp>

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <cmath>
#include <map>

#include "bert.h"
#include "lora.h"
#include "nf4.h"
#include "opsbench/core/error.h"

using namespace opsbench;
using namespace opsbench::models;

namespace {

BertConfig tiny_config() {
  BertConfig c;
  c.vocab_size = 50;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 64;
  c.max_position_embeddings = 16;
  return c;
}

// A tiny encoder with every parameter random (HF's initialisation zeroes biases, which would hide
// bias handling).
BertModel tiny_model(std::uint64_t seed) {
  torch::manual_seed(seed);
  BertModel m(tiny_config());
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters()) p.normal_(0.0, 0.2);
  m->eval();
  return m;
}

struct Batch {
  torch::Tensor ids, mask;
};
Batch tiny_batch() {
  torch::manual_seed(99);
  Batch b{torch::randint(1, 50, {3, 9}, torch::kLong), torch::ones({3, 9}, torch::kLong)};
  b.mask[2].narrow(0, 6, 3).zero_();  // padding in the last row
  return b;
}

torch::Tensor hidden_of(BertModel& m, const Batch& b) {
  torch::NoGradGuard no_grad;
  return m->forward(b.ids, b.mask).last_hidden_state;
}

std::map<std::string, torch::Tensor> snapshot(const torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> s;
  for (const auto& p : m.named_parameters()) s[p.key()] = p.value().detach().clone();
  return s;
}

}  // namespace

TEST_CASE("lora projection equals its base at initialisation", "[models][lora]") {
  torch::manual_seed(1);
  auto base = std::make_shared<DenseProjectionImpl>(12, 10);
  const torch::Tensor w0 = base->weight.detach().clone();
  auto lora = std::make_shared<LoraProjectionImpl>(base, LoraOptions{4, 8.0, 0.1});
  CHECK(lora->scaling() == 2.0);
  CHECK(lora->lora_A.sizes() == torch::IntArrayRef({4, 12}));
  CHECK(lora->lora_B.sizes() == torch::IntArrayRef({10, 4}));
  CHECK(torch::count_nonzero(lora->lora_B).item<std::int64_t>() == 0);
  // PEFT's Kaiming-uniform(a = sqrt 5): U(+-1/sqrt(in)).
  CHECK(lora->lora_A.abs().max().item<double>() <= 1.0 / std::sqrt(12.0));
  CHECK(lora->lora_A.abs().max().item<double>() > 0.5 / std::sqrt(12.0));
  CHECK_FALSE(base->weight.requires_grad());
  CHECK_FALSE(base->bias.requires_grad());
  std::int64_t trainable = 0;
  for (const auto& p : lora->parameters()) trainable += p.requires_grad() ? p.numel() : 0;
  CHECK(trainable == 4 * (12 + 10));  // r (in + out) per adapted projection
  const torch::Tensor x = torch::randn({2, 3, 12});
  lora->train();  // dropout on the adapter input changes nothing while B = 0
  CHECK(torch::equal(lora->forward(x), base->forward(x)));
  CHECK(torch::equal(lora->effective_weight(), w0));
  auto names = lora->named_parameters().keys();
  CHECK(std::find(names.begin(), names.end(), "base_layer.weight") != names.end());
  CHECK(std::find(names.begin(), names.end(), "lora_A") != names.end());
}

TEST_CASE("lora training changes only the adapters; merge reproduces the outputs", "[models][lora]") {
  torch::manual_seed(2);
  for (bool nf4_base : {false, true}) {
    INFO("nf4 base " << nf4_base);
    Projection base = std::make_shared<DenseProjectionImpl>(16, 8);
    if (nf4_base) base = Nf4ProjectionImpl::from_projection(*base);
    const torch::Tensor base_w = base->effective_weight().clone(), base_b = base->effective_bias().clone();
    auto lora = std::make_shared<LoraProjectionImpl>(base, LoraOptions{2, 4.0, 0.0});
    const torch::Tensor a0 = lora->lora_A.detach().clone();
    std::vector<torch::Tensor> trainable;
    for (const auto& p : lora->parameters()) {
      if (p.requires_grad()) trainable.push_back(p);
    }
    REQUIRE(trainable.size() == 2);
    torch::optim::SGD opt(trainable, torch::optim::SGDOptions(0.5));
    const torch::Tensor x = torch::randn({20, 16}), target = torch::randn({20, 8});
    for (int step = 0; step < 2; ++step) {
      opt.zero_grad();
      torch::mse_loss(lora->forward(x), target).backward();
      opt.step();
      if (step == 0) {
        // dL/dA = scaling B^T (...) is zero while B = 0: only B moves on the first step.
        CHECK(torch::equal(lora->lora_A, a0));
        CHECK(torch::count_nonzero(lora->lora_B).item<std::int64_t>() > 0);
      }
    }
    CHECK_FALSE(torch::equal(lora->lora_A, a0));
    CHECK(torch::equal(base->effective_weight(), base_w));
    CHECK(torch::equal(base->effective_bias(), base_b));
    lora->eval();
    torch::NoGradGuard no_grad;
    const Projection merged = lora->merge();
    REQUIRE(std::dynamic_pointer_cast<DenseProjectionImpl>(merged));
    const torch::Tensor xt = torch::randn({4, 5, 16});
    CHECK(torch::allclose(merged->forward(xt), lora->forward(xt), 1e-5, 1e-5));
    // Inference adds the update to the activations (dense base) or folds it into the dequantised
    // weight (NF4 base): either way the adapter's definition.
    const torch::Tensor by_definition =
        base->forward(xt) + torch::matmul(torch::matmul(xt, lora->lora_A.t()), lora->lora_B.t()) * lora->scaling();
    CHECK(torch::allclose(lora->forward(xt), by_definition, 1e-5, 1e-5));
    CHECK(torch::allclose(merged->effective_weight(), base_w + torch::mm(lora->lora_B, lora->lora_A) * lora->scaling(),
                          1e-6, 1e-7));
  }
}

TEST_CASE("lora dropout acts in training only and options are validated", "[models][lora]") {
  torch::manual_seed(3);
  auto lora = std::make_shared<LoraProjectionImpl>(std::make_shared<DenseProjectionImpl>(8, 8), LoraOptions{2, 2, 0.5});
  {
    torch::NoGradGuard no_grad;
    lora->lora_B.normal_();
  }
  const torch::Tensor x = torch::randn({6, 8});
  lora->eval();
  torch::NoGradGuard no_grad;
  CHECK(torch::equal(lora->forward(x), lora->forward(x)));
  lora->train();
  CHECK_FALSE(torch::equal(lora->forward(x), lora->forward(x)));
  auto base = std::make_shared<DenseProjectionImpl>(4, 4);
  CHECK_THROWS_AS(LoraProjectionImpl(base, LoraOptions{0, 1, 0}), ConfigError);
  CHECK_THROWS_AS(LoraProjectionImpl(base, LoraOptions{2, -1, 0}), ConfigError);
  CHECK_THROWS_AS(LoraProjectionImpl(base, LoraOptions{2, 1, 1.0}), ConfigError);
  auto wrapped = std::make_shared<LoraProjectionImpl>(base, LoraOptions{});
  CHECK_THROWS_AS(LoraProjectionImpl(wrapped, LoraOptions{}), ConfigError);
}

TEST_CASE("apply_lora on a tiny BERT: counts, identity, adapter-only training, merge", "[models][lora]") {
  BertModel model = tiny_model(4);
  const Batch batch = tiny_batch();
  const torch::Tensor before = hidden_of(model, batch);
  const std::int64_t r = 4;
  const std::int64_t added = apply_lora(model, r, 8.0, 0.05);
  CHECK(added == 2 * 2 * r * (32 + 32));  // 2 layers x {query, value} x r (in + out)
  CHECK(freeze_except_adapters(*model) == added);
  CHECK(count_parameters(*model).trainable == added);
  CHECK_THROWS_AS(apply_lora(model, r, 8.0, 0.0), ConfigError);
  const auto names = model->named_parameters().keys();
  CHECK(std::find(names.begin(), names.end(), "encoder.layer.1.attention.self.value.lora_B") != names.end());
  CHECK(std::find(names.begin(), names.end(), "encoder.layer.0.attention.self.query.base_layer.weight") != names.end());
  CHECK(torch::allclose(hidden_of(model, batch), before, 1e-6, 1e-6));

  // Three steps of SGD on a toy loss: only lora_A / lora_B move.
  const auto start = snapshot(*model);
  std::vector<torch::Tensor> params;
  for (auto& p : model->parameters()) {
    if (p.requires_grad()) params.push_back(p);
  }
  // A large step: query adapters act through the softmax, whose gradients are small here.
  torch::optim::SGD opt(params, torch::optim::SGDOptions(2.0));
  model->train();
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    model->forward(batch.ids, batch.mask).last_hidden_state.select(2, 0).sum().backward();
    opt.step();
  }
  model->eval();
  for (const auto& [name, value] : snapshot(*model)) {
    INFO(name);
    const bool adapter = name.find("lora_") != std::string::npos;
    const bool same = torch::equal(value, start.at(name));
    if (adapter) {
      CHECK_FALSE(same);
    } else {
      CHECK(same);
    }
  }
  const torch::Tensor adapted = hidden_of(model, batch);
  CHECK_FALSE(torch::allclose(adapted, before, 1e-4, 1e-4));
  CHECK(merge_lora(model) == 4);
  CHECK(std::dynamic_pointer_cast<DenseProjectionImpl>(model->projection(0, Slot::kQuery)));
  CHECK(torch::allclose(hidden_of(model, batch), adapted, 1e-5, 1e-5));
}

TEST_CASE("quantize_base makes a QLoRA encoder: NF4 frozen slots, LoRA trainable", "[models][lora][nf4]") {
  BertModel model = tiny_model(5);
  const Batch batch = tiny_batch();
  const torch::Tensor fp32 = hidden_of(model, batch);
  std::int64_t dense_bytes = 0;
  for (std::int64_t l = 0; l < 2; ++l) {
    for (Slot s :
         {Slot::kQuery, Slot::kKey, Slot::kValue, Slot::kAttentionOutput, Slot::kIntermediate, Slot::kOutput}) {
      for (const auto& p : model->projection(l, s)->parameters()) dense_bytes += static_cast<std::int64_t>(p.nbytes());
    }
  }
  const std::int64_t saved = quantize_base(model, /*double_quant=*/true);
  CHECK(saved > dense_bytes * 8 / 10);
  for (std::int64_t l = 0; l < 2; ++l) {
    CHECK(std::dynamic_pointer_cast<Nf4ProjectionImpl>(model->projection(l, Slot::kIntermediate)));
  }
  // 4-bit weights move the output a little, not a lot (LayerNorm keeps the scale at 1).
  const double diff = (hidden_of(model, batch) - fp32).abs().max().item<double>();
  CHECK(diff > 0);
  CHECK(diff < 0.5);
  const torch::Tensor quantised = hidden_of(model, batch);
  const std::int64_t added = apply_lora(model, 2, 4.0, 0.0);
  CHECK(freeze_except_adapters(*model) == added);
  CHECK(torch::allclose(hidden_of(model, batch), quantised, 1e-6, 1e-6));
  // What a saved model holds: packed NF4 buffers as U8, no float32 copy of any slot weight.
  std::int64_t u8 = 0, float_weights = 0;
  for (const auto& t : bert_state(*model)) {
    if (t.dtype == DType::kU8) ++u8;
    const bool layer_weight = t.name.rfind("encoder.layer.", 0) == 0 && t.name.find("LayerNorm") == std::string::npos &&
                              t.name.size() > 7 && t.name.compare(t.name.size() - 7, 7, ".weight") == 0;
    if (layer_weight) ++float_weights;
  }
  CHECK(u8 == 2 * 6 * 2);  // codes and absmax codes of 6 slots in 2 layers
  CHECK(float_weights == 0);
  const auto names = model->named_buffers().keys();
  CHECK(std::find(names.begin(), names.end(), "encoder.layer.0.attention.self.query.base_layer.weight_codes") !=
        names.end());
  // A training step through the NF4 bases: gradients reach the adapters of layer 0.
  model->train();
  model->forward(batch.ids, batch.mask).pooled.square().mean().backward();
  auto lora = std::dynamic_pointer_cast<LoraProjectionImpl>(model->projection(0, Slot::kQuery));
  REQUIRE(lora);
  CHECK(lora->lora_B.grad().defined());
  CHECK(lora->lora_B.grad().abs().sum().item<double>() > 0);
  CHECK_THROWS_AS(quantize_base(model), ConfigError);
  // Merging an NF4 base dequantises it (float32 result).
  model->eval();
  const torch::Tensor unmerged = hidden_of(model, batch);
  merge_lora(model);
  CHECK(std::dynamic_pointer_cast<DenseProjectionImpl>(model->projection(1, Slot::kValue)));
  CHECK(torch::allclose(hidden_of(model, batch), unmerged, 1e-5, 1e-5));
}

#endif  // OPSBENCH_HAVE_TORCH
