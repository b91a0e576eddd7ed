#ifdef OPSBENCH_HAVE_TORCH

#include "encoder_pretrain.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "opsbench/core/error.h"
#include "opsbench/core/portable_random.h"

namespace opsbench::models {
namespace {

class MlmHeadImpl : public torch::nn::Module {
 public:
  MlmHeadImpl(std::int64_t hidden, std::int64_t vocab, double eps) {
    dense = register_module("dense", torch::nn::Linear(hidden, hidden));
    norm = register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden}).eps(eps)));
    bias = register_parameter("bias", torch::zeros({vocab}));
  }
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& embeddings) {
    return torch::nn::functional::linear(norm->forward(torch::gelu(dense->forward(hidden))), embeddings, bias);
  }
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::Tensor bias;
};
TORCH_MODULE(MlmHead);

}  // namespace

MlmResult pretrain_mlm(BertModel& encoder, const torch::Tensor& ids, const torch::Tensor& mask,
                       const MlmConfig& config) {
  const std::int64_t n = ids.size(0);
  if (n == 0) throw DataError("MLM pretraining: no sentences");
  const BertConfig& bc = encoder->config();
  torch::Tensor embeddings;
  for (const auto& p : encoder->named_parameters()) {
    if (p.key() == "embeddings.word_embeddings.weight") embeddings = p.value();
  }
  if (!embeddings.defined()) throw ModelError("MLM pretraining: the encoder has no word embeddings");
  MlmHead head(bc.hidden_size, bc.vocab_size, bc.layer_norm_eps);
  head->to(config.device);
  std::vector<torch::Tensor> params = encoder->parameters();
  for (const auto& p : head->parameters()) params.push_back(p);
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(config.lr).weight_decay(0.01));

  torch::Tensor special = torch::zeros({bc.vocab_size}, torch::kBool);
  for (std::int64_t id : config.special_ids)
    if (id >= 0 && id < bc.vocab_size) special[id] = true;

  std::mt19937_64 rng(config.seed ^ 0x6d6c6dULL);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  MlmResult result;
  const auto start = std::chrono::steady_clock::now();
  encoder->train();
  head->train();
  for (int epoch = 0; epoch < config.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    portable_shuffle(order, rng);
    const torch::Tensor perm = torch::from_blob(order.data(), {n}, torch::kLong).clone();
    double loss_sum = 0;
    std::int64_t batches = 0;
    for (std::int64_t begin = 0; begin < n; begin += config.batch_size) {
      const std::int64_t len = std::min<std::int64_t>(config.batch_size, n - begin);
      const torch::Tensor index = perm.narrow(0, begin, len);
      torch::Tensor m = mask.index_select(0, index);
      const std::int64_t length = std::max<std::int64_t>(1, m.sum(1).max().item<std::int64_t>());
      m = m.narrow(1, 0, length);
      torch::Tensor x = ids.index_select(0, index).narrow(1, 0, length).clone();
      const torch::Tensor eligible = m.to(torch::kBool) & ~special.index({x});
      const torch::Tensor selected = eligible & (torch::rand(x.sizes()) < config.mask_probability);
      if (!selected.any().item<bool>()) continue;
      const torch::Tensor labels = torch::where(selected, x, torch::full_like(x, -100));
      const torch::Tensor draw = torch::rand(x.sizes());
      const torch::Tensor to_mask = selected & (draw < 0.8);
      const torch::Tensor to_random = selected & (draw >= 0.8) & (draw < 0.9);
      x = torch::where(to_mask, torch::full_like(x, config.mask_id), x);
      x = torch::where(to_random, torch::randint(bc.vocab_size, x.sizes(), torch::kLong), x);
      const torch::Tensor hidden = encoder->forward(x.to(config.device), m.to(config.device)).last_hidden_state;
      const torch::Tensor logits = head->forward(hidden, embeddings);
      const torch::Tensor loss = torch::nn::functional::cross_entropy(
          logits.reshape({-1, bc.vocab_size}), labels.reshape({-1}).to(config.device),
          torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
      optimizer.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(params, 1.0);
      optimizer.step();
      loss_sum += loss.item<double>();
      ++batches;
    }
    const double mean = batches ? loss_sum / static_cast<double>(batches) : 0.0;
    if (!std::isfinite(mean)) throw ModelError("MLM pretraining diverged at epoch " + std::to_string(epoch + 1));
    result.loss.push_back(mean);
  }
  encoder->eval();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
