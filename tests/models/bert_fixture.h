// Small BERT models and inputs shared by the encoder tests (bert_test.cpp, encoder_pass_test.cpp).
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "bert.h"

namespace opsbench::testing {

inline models::BertConfig tiny_config() {
  models::BertConfig c;
  c.vocab_size = 50;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 32;
  c.max_position_embeddings = 32;
  return c;
}

inline models::BertModel tiny_model(std::uint64_t seed, const models::BertConfig& c = tiny_config()) {
  torch::manual_seed(seed);
  models::BertModel m(c);
  m->eval();
  return m;
}

// Rows of token ids, padded with 0 to the longest; *mask gets 1 for real tokens.
inline torch::Tensor ids_of(std::vector<std::vector<std::int64_t>> rows, torch::Tensor* mask) {
  std::size_t length = 0;
  for (const auto& r : rows) length = std::max(length, r.size());
  auto ids = torch::zeros({static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(length)}, torch::kInt64);
  *mask = torch::zeros_like(ids);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t j = 0; j < rows[i].size(); ++j) {
      ids[static_cast<std::int64_t>(i)][static_cast<std::int64_t>(j)] = rows[i][j];
      (*mask)[static_cast<std::int64_t>(i)][static_cast<std::int64_t>(j)] = 1;
    }
  }
  return ids;
}

inline double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// A projection that is not a DenseProjection (so the model takes its generic, per-slot path) but
// computes the same map.
class WrappedProjection : public models::ProjectionImpl {
 public:
  explicit WrappedProjection(models::Projection inner) : inner_(register_module("inner", std::move(inner))) {}
  torch::Tensor forward(const torch::Tensor& x) override { return inner_->forward(x); }
  std::int64_t in_features() const override { return inner_->in_features(); }
  std::int64_t out_features() const override { return inner_->out_features(); }
  torch::Tensor effective_weight() const override { return inner_->effective_weight(); }
  torch::Tensor effective_bias() const override { return inner_->effective_bias(); }

 private:
  models::Projection inner_;
};

}  // namespace opsbench::testing

#endif  // OPSBENCH_HAVE_TORCH
