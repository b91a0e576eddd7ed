// The one-region encoder pass (models/src/encoder_pass.h) and its parts: the layer norm kernel, the
// spinning barrier, and the pass against the op-by-op inference path at several thread counts.
#include <catch2/catch.hpp>

#ifdef OPSBENCH_HAVE_TORCH

#include <ATen/Parallel.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "bert_fixture.h"
#include "encoder_pass.h"
#include "layer_norm_kernel.h"
#include "lora.h"
#include "pruning.h"
#include "spin_barrier.h"

namespace {

using opsbench::models::BertConfig;
using opsbench::models::BertModel;
using opsbench::models::Slot;
using opsbench::testing::ids_of;
using opsbench::testing::max_diff;
using opsbench::testing::tiny_model;
using opsbench::testing::WrappedProjection;

// Restores the intra-op thread count when a test section ends.
struct ThreadCount {
  int saved = at::get_num_threads();
  ~ThreadCount() { at::set_num_threads(saved); }
};

// Restores the pass's materialise policy when a test section ends.
struct PolicyGuard {
  opsbench::models::MaterialisePolicy saved = opsbench::models::materialise_policy();
  ~PolicyGuard() { opsbench::models::materialise_policy() = saved; }
};

}  // namespace

TEST_CASE("layer_norm_rows equals layer norm in double, in place on strided rows", "[models][encoder_pass]") {
  torch::manual_seed(11);
  for (std::int64_t n : {1, 7, 16, 33, 384}) {
    CAPTURE(n);
    const std::int64_t rows = 5, ld = n + 3;
    torch::Tensor x = torch::randn({rows, ld});
    x[1] += 1000.0;               // a large common offset must not cancel the variance away
    if (n > 1) x[2].fill_(0.25);  // a constant row: (x - mean) = 0, the output is the bias
    const torch::Tensor weight = torch::randn({n}), bias = torch::randn({n});
    // The reference in double: at::layer_norm in float computes x * rstd - mean * rstd, which loses
    // ~1e-4 on the offset row (and everything at n = 1, where rstd = 1e6).
    const torch::Tensor expected = at::layer_norm(x.narrow(1, 0, n).to(torch::kDouble), {n}, weight.to(torch::kDouble),
                                                  bias.to(torch::kDouble), 1e-12)
                                       .to(torch::kFloat);
    torch::Tensor y = x.clone();
    opsbench::models::layer_norm_rows(y.data_ptr<float>(), rows, ld, n, weight.data_ptr<float>(),
                                      bias.data_ptr<float>(), 1e-12);
    CHECK(max_diff(y.narrow(1, 0, n), expected) < 2e-5);
    CHECK(max_diff(y.narrow(1, n, 3), x.narrow(1, n, 3)) == 0.0);  // padding columns untouched
    if (n > 1) CHECK(max_diff(y[2].narrow(0, 0, n), bias) == 0.0);
  }
}

TEST_CASE("SpinBarrier: no thread leaves a round before every thread arrived", "[models][encoder_pass]") {
  constexpr int kThreads = 3, kRounds = 3000;
  opsbench::models::SpinBarrier barrier(kThreads);
  std::vector<std::atomic<int>> reached(kThreads);
  std::atomic<int> violations{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 1; round <= kRounds; ++round) {
        // Now and then one thread is late by far more than the spin: the others must sleep and wake.
        if (t == round % kThreads && round % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(3));
        reached[t].store(round);
        barrier.arrive_and_wait();
        for (int u = 0; u < kThreads; ++u) {
          if (reached[u].load() < round) violations.fetch_add(1);
        }
        barrier.arrive_and_wait();  // nobody starts the next round while another still checks
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(violations.load() == 0);
}

BertConfig pass_config() {
  BertConfig c = opsbench::testing::tiny_config();
  c.hidden_size = 32;
  c.num_attention_heads = 4;
  c.intermediate_size = 64;
  c.num_hidden_layers = 3;
  c.max_position_embeddings = 80;
  return c;
}

// Three rows of 70, 40 and 4 tokens (padded): the row parts and the padding mask both matter.
torch::Tensor pass_inputs(torch::Tensor* mask) {
  std::vector<std::int64_t> long_row, mid_row, short_row;
  for (std::int64_t i = 0; i < 70; ++i) long_row.push_back(2 + (i * 7) % 45);
  for (std::int64_t i = 0; i < 40; ++i) mid_row.push_back(3 + (i * 5) % 40);
  short_row = {2, 9, 14, 3};
  return ids_of({long_row, mid_row, short_row}, mask);
}

// A slot wrapped in a projection without a weight writer: the model then runs op by op.
void force_op_by_op(BertModel& m) {
  m->set_projection(1, Slot::kKey, std::make_shared<WrappedProjection>(m->projection(1, Slot::kKey)));
}

TEST_CASE("Encoder pass: equals the op-by-op path at 1, 2 and 3 threads and repeats exactly",
          "[models][encoder_pass]") {
  const BertConfig c = pass_config();
  BertModel pass = tiny_model(21, c);
  BertModel op_by_op = tiny_model(21, c);
  force_op_by_op(op_by_op);
  torch::Tensor mask;
  const torch::Tensor ids = pass_inputs(&mask);

  const auto compare = [&](const char* what) {
    ThreadCount restore;
    for (int threads : {1, 2, 3}) {
      CAPTURE(what, threads);
      at::set_num_threads(threads);
      const auto a = opsbench::models::bert_infer(pass, ids, mask);
      const auto again = opsbench::models::bert_infer(pass, ids, mask);
      const auto b = opsbench::models::bert_infer(op_by_op, ids, mask);
      CHECK(max_diff(a.last_hidden_state, again.last_hidden_state) == 0.0);
      CHECK(max_diff(a.last_hidden_state, b.last_hidden_state) < 1e-5);
      CHECK(max_diff(a.pooled, b.pooled) < 1e-5);
      c10::InferenceMode guard;
      const torch::Tensor first = pass->pooled_output(ids, mask);  // the first-token last layer
      CHECK(max_diff(first, b.pooled) < 1e-5);
      CHECK(max_diff(first, pass->pooled_output(ids, mask)) == 0.0);
    }
  };
  compare("full");

  // Pruned MLPs: the layers' inner sizes differ (the pass sizes its scratch by the largest).
  for (BertModel* m : {&pass, &op_by_op}) {
    opsbench::models::shrink_mlp(*m, 0, {0, 3, 5, 9, 10, 40});
    opsbench::models::shrink_mlp(*m, 2, {1, 2, 63});
  }
  compare("pruned");
}

TEST_CASE("Encoder pass: QLoRA (NF4 base, LoRA on query and value) equals the op-by-op path",
          "[models][encoder_pass]") {
  const BertConfig c = pass_config();
  BertModel pass = tiny_model(22, c), op_by_op = tiny_model(22, c);
  for (BertModel* m : {&pass, &op_by_op}) {
    opsbench::models::quantize_base(*m, /*double_quant=*/true);
    torch::manual_seed(5);
    opsbench::models::apply_lora(*m, 4, 8.0, 0.0);
    torch::NoGradGuard no_grad;
    for (std::int64_t l = 0; l < (*m)->num_layers(); ++l) {
      for (Slot s : {Slot::kQuery, Slot::kValue}) {
        auto lora = std::dynamic_pointer_cast<opsbench::models::LoraProjectionImpl>((*m)->projection(l, s));
        REQUIRE(lora != nullptr);
        lora->lora_B.normal_(0.0, 0.5);  // B starts at zero: make the update count
      }
    }
  }
  // Pruned NF4 MLPs: inner sizes that fill neither a block of 64 columns nor a tile of 16 inputs.
  std::vector<std::int64_t> kept;
  for (std::int64_t i = 0; i < 45; ++i) kept.push_back(i + i / 3);
  for (BertModel* m : {&pass, &op_by_op}) {
    opsbench::models::shrink_mlp(*m, 0, {0, 3, 5, 9, 10, 40});
    opsbench::models::shrink_mlp(*m, 1, kept);
  }
  // A LoRA slot over a dense base takes the pass too (its weight is written each forward).
  for (BertModel* m : {&pass, &op_by_op}) {
    BertModel dense = tiny_model(23, c);
    torch::manual_seed(6);
    (*m)->set_projection(2, Slot::kOutput, dense->projection(2, Slot::kOutput));
    opsbench::models::apply_lora(*m, 2, 4.0, 0.0, {Slot::kOutput});
  }
  force_op_by_op(op_by_op);
  torch::Tensor mask;
  const torch::Tensor ids = pass_inputs(&mask);
  ThreadCount restore;
  PolicyGuard restore_policy;
  // Every way of writing the weights: blocked and fused (the default at these 210 rows; column mode
  // from two threads), blocked whole in stage M, plain rows.
  struct Policy {
    const char* name;
    bool blocked;
    std::int64_t most_fused_rows;
  };
  for (const Policy policy : {Policy{"fused", true, 512}, Policy{"stage M", true, 0}, Policy{"plain", false, 512}}) {
    opsbench::models::materialise_policy() = {policy.blocked, policy.most_fused_rows};
    for (int threads : {1, 2, 3}) {
      CAPTURE(policy.name, threads);
      at::set_num_threads(threads);
      const auto a = opsbench::models::bert_infer(pass, ids, mask);
      const auto b = opsbench::models::bert_infer(op_by_op, ids, mask);
      CHECK(max_diff(a.last_hidden_state, opsbench::models::bert_infer(pass, ids, mask).last_hidden_state) == 0.0);
      CHECK(max_diff(a.last_hidden_state, b.last_hidden_state) < 1e-5);
      c10::InferenceMode guard;
      CHECK(max_diff(pass->pooled_output(ids, mask), b.pooled) < 1e-5);
    }
  }
}

#endif  // OPSBENCH_HAVE_TORCH
