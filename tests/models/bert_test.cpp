// The BERT encoder (models/src/bert.h): config.json parsing, shapes and names, the padding mask,
// the fused inference path against the autograd path, strict checkpoint loading, a safetensors round
// trip, and ([data]) the real all-MiniLM-L6-v2 against Hugging Face's outputs.
#include <catch2/catch.hpp>

#ifdef OPSBENCH_HAVE_TORCH

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "bert.h"
#include "opsbench/core/error.h"
#include "opsbench/models/pretrained.h"
#include "opsbench/models/safetensors.h"
#include "bert_fixture.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
using opsbench::models::BertConfig;
using opsbench::models::BertModel;
using opsbench::models::Slot;
using opsbench::testing::ids_of;
using opsbench::testing::max_diff;
using opsbench::testing::tiny_config;
using opsbench::testing::tiny_model;
using opsbench::testing::WrappedProjection;

using opsbench::testing::TempDir;

const char* kConfigJson = R"({"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2,
  "num_attention_heads": 4, "intermediate_size": 32, "hidden_act": "gelu_new", "layer_norm_eps": 1e-12,
  "max_position_embeddings": 32, "type_vocab_size": 2, "model_type": "bert", "torch_dtype": "float32"})";

}  // namespace

TEST_CASE("BertConfig reads config.json and names the key that is wrong", "[models][bert]") {
  const BertConfig c = BertConfig::from_json_text(kConfigJson, "cfg.json");
  CHECK(c.hidden_size == 16);
  CHECK(c.hidden_act == "gelu_new");
  CHECK(c.hidden_dropout_prob == Approx(0.1));  // Hugging Face default when absent
  const BertConfig again = BertConfig::from_json_text(c.to_json_text(), "again");
  CHECK(again.to_json_text() == c.to_json_text());

  const auto data_error = [](const std::string& text, const std::string& fragment) {
    try {
      BertConfig::from_json_text(text, "cfg.json");
      FAIL("no error for " << text);
    } catch (const opsbench::DataError& e) {
      CHECK(e.file() == "cfg.json");
      CHECK_THAT(e.what(), Catch::Contains(fragment));
    }
  };
  data_error(R"({"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2, "intermediate_size": 32})",
             "num_attention_heads");
  data_error(R"({"vocab_size": 50, "hidden_size": "16", "num_hidden_layers": 2, "num_attention_heads": 4,
                 "intermediate_size": 32})", "hidden_size");
  data_error(R"({"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "intermediate_size": 32, "layer_norm_eps": "small"})", "layer_norm_eps");
  data_error("[1, 2]", "not a JSON object");
  data_error("{", "not JSON");
  CHECK_THROWS_AS(BertConfig::from_json_file("/nonexistent/config.json"), opsbench::DataError);
  CHECK_THROWS_AS(BertConfig::from_json_text(R"({"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2,
      "num_attention_heads": 4, "intermediate_size": 32, "position_embedding_type": "relative_key"})", "c"),
                  opsbench::ConfigError);

  BertConfig bad = tiny_config();
  bad.num_attention_heads = 5;
  CHECK_THROWS_AS(bad.validate(), opsbench::ConfigError);
  bad = tiny_config();
  bad.hidden_act = "swish";
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("swish"));
  bad = tiny_config();
  bad.intermediate_size = 0;
  CHECK_THROWS_AS(BertModel(bad), opsbench::ConfigError);
}

TEST_CASE("BertModel has Hugging Face parameter names and the documented shapes", "[models][bert]") {
  BertModel m = tiny_model(1);
  const auto params = m->named_parameters();
  // 5 embedding tensors, 16 per layer, 2 pooler.
  CHECK(params.size() == 5 + 16 * 2 + 2);
  for (const char* name : {"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                           "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight",
                           "encoder.layer.0.attention.self.query.weight", "encoder.layer.1.attention.self.value.bias",
                           "encoder.layer.1.attention.output.dense.weight", "encoder.layer.1.attention.output.LayerNorm.bias",
                           "encoder.layer.0.intermediate.dense.weight", "encoder.layer.0.output.dense.bias",
                           "encoder.layer.0.output.LayerNorm.weight", "pooler.dense.weight"}) {
    CHECK(params.find(name) != nullptr);
  }
  CHECK(params["encoder.layer.0.intermediate.dense.weight"].sizes().vec() == std::vector<std::int64_t>{32, 16});
  CHECK(opsbench::models::count_parameters(*m).total ==
        50 * 16 + 32 * 16 + 2 * 16 + 2 * 16 + 2 * (4 * (16 * 16 + 16) + 2 * 16 + 32 * 16 + 32 + 16 * 32 + 16 + 2 * 16) +
            16 * 16 + 16);
  CHECK(std::string(opsbench::models::slot_path(Slot::kAttentionOutput)) == "attention.output.dense");

  torch::Tensor mask;
  const torch::Tensor ids = ids_of({{2, 7, 9, 3}, {2, 5, 3}}, &mask);
  const auto out = opsbench::models::bert_infer(m, ids, mask);
  CHECK(out.last_hidden_state.sizes().vec() == std::vector<std::int64_t>{2, 4, 16});
  CHECK(out.pooled.sizes().vec() == std::vector<std::int64_t>{2, 16});
  CHECK(torch::isfinite(out.last_hidden_state).all().item<bool>());

  CHECK_THROWS_AS(m->forward(ids.to(torch::kInt32), mask), opsbench::ModelError);
  CHECK_THROWS_AS(m->forward(ids.narrow(1, 0, 3), mask), opsbench::ModelError);
  CHECK_THROWS_AS(m->forward(ids + 50, mask), opsbench::ModelError);
  CHECK_THROWS_AS(m->forward(torch::zeros({1, 33}, torch::kInt64), {}), opsbench::ModelError);
}

TEST_CASE("BertModel: padding leaves the real tokens' outputs unchanged", "[models][bert]") {
  BertModel m = tiny_model(2);
  torch::Tensor mask_short, mask_padded;
  const torch::Tensor alone = ids_of({{2, 11, 17, 3}}, &mask_short);
  const torch::Tensor padded = ids_of({{2, 11, 17, 3}, {2, 4, 4, 6, 8, 9, 3}}, &mask_padded);
  const auto a = opsbench::models::bert_infer(m, alone, mask_short);
  const auto b = opsbench::models::bert_infer(m, padded, mask_padded);
  CHECK(max_diff(a.last_hidden_state[0], b.last_hidden_state[0].narrow(0, 0, 4)) < 1e-5);
  CHECK(max_diff(a.pooled[0], b.pooled[0]) < 1e-5);
  // Same with autograd on (the per-slot path).
  const auto c = m->forward(padded, mask_padded);
  CHECK(max_diff(a.last_hidden_state[0], c.last_hidden_state[0].narrow(0, 0, 4).detach()) < 1e-5);
}

TEST_CASE("BertModel: fused inference, autograd and generic slots agree; runs are deterministic", "[models][bert]") {
  BertModel m = tiny_model(3);
  torch::Tensor mask;
  const torch::Tensor ids = ids_of({{2, 11, 17, 3, 8}, {2, 5, 3}}, &mask);
  const torch::Tensor types = torch::tensor({0, 0, 1, 1, 1, 0, 0, 1, 0, 0}, torch::kInt64).view({2, 5});
  const auto fused = opsbench::models::bert_infer(m, ids, mask, types);
  const auto again = opsbench::models::bert_infer(m, ids, mask, types);
  CHECK(max_diff(fused.last_hidden_state, again.last_hidden_state) == 0.0);
  const auto autograd = m->forward(ids, mask, types);
  CHECK(max_diff(fused.last_hidden_state, autograd.last_hidden_state.detach()) < 1e-5);
  CHECK(max_diff(fused.pooled, autograd.pooled.detach()) < 1e-5);
  {
    c10::InferenceMode guard;
    CHECK(max_diff(m->pooled_output(ids, mask, types), fused.pooled) < 1e-5);
  }
  CHECK(max_diff(m->pooled_output(ids, mask, types).detach(), fused.pooled) < 1e-5);

  // Same seed, same weights and outputs.
  BertModel twin = tiny_model(3);
  CHECK(max_diff(opsbench::models::bert_infer(twin, ids, mask, types).pooled, fused.pooled) == 0.0);

  // Every slot wrapped: the generic path (no fused QKV, no folded residual) gives the same numbers.
  for (std::int64_t l = 0; l < m->num_layers(); ++l) {
    for (int s = 0; s < 6; ++s) {
      m->set_projection(l, Slot(s), std::make_shared<WrappedProjection>(m->projection(l, Slot(s))));
    }
  }
  CHECK(m->named_parameters().find("encoder.layer.0.attention.self.query.inner.weight") != nullptr);
  const auto generic = opsbench::models::bert_infer(m, ids, mask, types);
  CHECK(max_diff(fused.last_hidden_state, generic.last_hidden_state) < 1e-5);

  // An in-place weight change reaches the fused path (the cached concatenation is rebuilt).
  BertModel fresh = tiny_model(3);
  (void)opsbench::models::bert_infer(fresh, ids, mask, types);
  {
    torch::NoGradGuard no_grad;
    fresh->projection(0, Slot::kValue)->named_parameters()["weight"].mul_(2.0);
  }
  const auto changed = opsbench::models::bert_infer(fresh, ids, mask, types);
  const auto reference = fresh->forward(ids, mask, types);
  CHECK(max_diff(changed.last_hidden_state, reference.last_hidden_state.detach()) < 1e-5);
  CHECK(max_diff(changed.last_hidden_state, fused.last_hidden_state) > 1e-3);

  // The same for every slot's weight and bias, on the full and the first-token (pooled) paths,
  // whose packed weights are cached separately (packed_linear.h).
  for (int s = 0; s < 6; ++s) {
    for (const char* name : {"weight", "bias"}) {
      CAPTURE(s, name);
      (void)opsbench::models::bert_infer(fresh, ids, mask, types);
      {
        c10::InferenceMode guard;
        (void)fresh->pooled_output(ids, mask, types);
      }
      {
        torch::NoGradGuard no_grad;
        fresh->projection(1, Slot(s))->named_parameters()[name].add_(0.05);
      }
      const auto expected = fresh->forward(ids, mask, types);
      CHECK(max_diff(opsbench::models::bert_infer(fresh, ids, mask, types).last_hidden_state,
                     expected.last_hidden_state.detach()) < 1e-5);
      c10::InferenceMode guard;
      CHECK(max_diff(fresh->pooled_output(ids, mask, types), expected.pooled.detach()) < 1e-5);
    }
  }
}

TEST_CASE("BertModel: set_projection checks shapes; training mode uses dropout", "[models][bert]") {
  BertModel m = tiny_model(4);
  using opsbench::models::DenseProjectionImpl;
  CHECK_THROWS_AS(m->set_projection(0, Slot::kQuery, std::make_shared<DenseProjectionImpl>(16, 8)), opsbench::ConfigError);
  CHECK_THROWS_AS(m->set_projection(2, Slot::kQuery, std::make_shared<DenseProjectionImpl>(16, 16)), opsbench::ConfigError);
  CHECK_THROWS_AS(m->set_projection(0, Slot::kIntermediate, std::make_shared<DenseProjectionImpl>(16, 40)),
                  opsbench::ConfigError);
  // Pruning: both MLP slots shrink together.
  m->set_projection(0, Slot::kIntermediate, std::make_shared<DenseProjectionImpl>(16, 20));
  m->set_projection(0, Slot::kOutput, std::make_shared<DenseProjectionImpl>(20, 16));
  CHECK(m->intermediate_size(0) == 20);
  torch::Tensor mask;
  const torch::Tensor ids = ids_of({{2, 11, 17, 3}}, &mask);
  CHECK(opsbench::models::bert_infer(m, ids, mask).last_hidden_state.size(2) == 16);

  m->train();
  torch::manual_seed(9);
  const torch::Tensor t1 = m->forward(ids, mask).last_hidden_state.detach();
  const torch::Tensor t2 = m->forward(ids, mask).last_hidden_state.detach();
  CHECK(max_diff(t1, t2) > 1e-4);  // dropout draws differ
  m->eval();
  torch::NoGradGuard no_grad;
  CHECK(max_diff(m->forward(ids, mask).last_hidden_state, m->forward(ids, mask).last_hidden_state) == 0.0);
}

TEST_CASE("BertClassifier: logits shape and checkpoint names", "[models][bert]") {
  torch::manual_seed(5);
  opsbench::models::BertClassifier clf(tiny_config(), 3);
  const auto params = clf->named_parameters();
  CHECK(params.find("bert.embeddings.word_embeddings.weight") != nullptr);
  CHECK(params.find("classifier.weight") != nullptr);
  torch::Tensor mask;
  const torch::Tensor ids = ids_of({{2, 11, 17, 3}, {2, 5, 3}}, &mask);
  const torch::Tensor logits = opsbench::models::classifier_infer(clf, ids, mask);
  CHECK(logits.sizes().vec() == std::vector<std::int64_t>{2, 3});
  const torch::Tensor pooled = opsbench::models::bert_infer(clf->bert, ids, mask).pooled;
  c10::InferenceMode guard;
  CHECK(max_diff(logits, clf->classifier->forward(pooled)) < 1e-5);
}

TEST_CASE("load_bert_weights: round trip through safetensors and strict errors", "[models][bert]") {
  using opsbench::models::StoredTensor;
  TempDir dir;
  BertModel source = tiny_model(6);
  torch::Tensor mask;
  const torch::Tensor ids = ids_of({{2, 11, 17, 3}, {2, 5, 3}}, &mask);
  const auto expected = opsbench::models::bert_infer(source, ids, mask);

  // With the `bert.` prefix and a head's extras, as a BertForSequenceClassification checkpoint has.
  std::vector<StoredTensor> state = opsbench::models::bert_state(*source, "bert.");
  const std::vector<float> two = {0.5f, -0.5f};
  state.push_back(opsbench::models::from_float32("classifier.bias", {2}, two.data()));
  const std::string path = dir.file("model.safetensors");
  opsbench::models::write_safetensors(path, state);
  BertModel target = tiny_model(7);
  const auto ignored = opsbench::models::load_bert_weights(target, opsbench::models::read_safetensors(path));
  CHECK(ignored == std::vector<std::string>{"classifier.bias"});
  CHECK(max_diff(opsbench::models::bert_infer(target, ids, mask).last_hidden_state, expected.last_hidden_state) == 0.0);

  const auto fails = [&](std::vector<StoredTensor> tensors, const std::string& fragment) {
    const std::string p = dir.file("bad.safetensors");
    opsbench::models::write_safetensors(p, tensors);
    BertModel m = tiny_model(8);
    const torch::Tensor before = m->named_parameters()["pooler.dense.weight"].clone();
    try {
      opsbench::models::load_bert_weights(m, opsbench::models::read_safetensors(p));
      FAIL("no error, expected " << fragment);
    } catch (const opsbench::DataError& e) {
      CHECK(e.file() == p);
      CHECK_THAT(e.what(), Catch::Contains(fragment));
    }
    CHECK(max_diff(before, m->named_parameters()["pooler.dense.weight"]) == 0.0);  // nothing written
  };
  const std::vector<StoredTensor> plain = opsbench::models::bert_state(*source);
  std::vector<StoredTensor> missing;
  for (const auto& t : plain) {
    if (t.name != "encoder.layer.1.attention.self.key.bias") missing.push_back(t);
  }
  fails(missing, "encoder.layer.1.attention.self.key.bias");
  std::vector<StoredTensor> reshaped = plain;
  for (auto& t : reshaped) {
    if (t.name == "encoder.layer.0.intermediate.dense.weight") t.shape = {16, 32};
  }
  fails(reshaped, "expected shape [32, 16], found [16, 32]");
  std::vector<StoredTensor> extra_layer = plain;
  const std::vector<float> zeros(16, 0.0f);
  extra_layer.push_back(opsbench::models::from_float32("encoder.layer.2.output.dense.bias", {16}, zeros.data()));
  fails(extra_layer, "encoder.layer.2.output.dense.bias");

  // Only dense slots load.
  BertModel swapped = tiny_model(9);
  swapped->set_projection(0, Slot::kQuery, std::make_shared<WrappedProjection>(swapped->projection(0, Slot::kQuery)));
  CHECK_THROWS_AS(opsbench::models::load_bert_weights(swapped, opsbench::models::read_safetensors(path)),
                  opsbench::ModelError);
}

TEST_CASE("BertModel matches Hugging Face on all-MiniLM-L6-v2", "[models][bert][data]") {
  const std::string dir = opsbench::models::find_pretrained("all-MiniLM-L6-v2");
  if (dir.empty()) {
    WARN("skipped: " << opsbench::models::how_to_fetch("all-MiniLM-L6-v2"));
    return;
  }
  // Reference: bench/peers/make_bert_reference.py (transformers 4.36.2 BertModel, torch 1.13, CPU).
  std::ifstream in(std::string(OPSBENCH_TEST_DIR) + "/models/fixtures/minilm_reference.json");
  REQUIRE(in.good());
  const nlohmann::json ref = nlohmann::json::parse(in);
  BertModel m(BertConfig::from_json_file(dir + "/config.json"));
  const auto ignored = opsbench::models::load_bert_weights(m, opsbench::models::read_safetensors(dir + "/model.safetensors"));
  CHECK(ignored == std::vector<std::string>{"embeddings.position_ids"});

  const auto rows = ref["input_ids"].get<std::vector<std::vector<std::int64_t>>>();
  const auto masks = ref["attention_mask"].get<std::vector<std::vector<std::int64_t>>>();
  const auto n = static_cast<std::int64_t>(rows.size()), length = static_cast<std::int64_t>(rows[0].size());
  torch::Tensor ids = torch::empty({n, length}, torch::kInt64), mask = torch::empty({n, length}, torch::kInt64);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < length; ++j) {
      ids[i][j] = rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
      mask[i][j] = masks[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
    }
  }
  const auto check = [&](const opsbench::models::BertOutput& out) {
    const torch::Tensor h = out.last_hidden_state.to(torch::kFloat64);
    double worst = 0;
    for (const auto& e : ref["hidden"]) {
      const torch::Tensor v = h[e["row"].get<std::int64_t>()][e["token"].get<std::int64_t>()];
      const auto first = e["first"].get<std::vector<double>>(), last = e["last"].get<std::vector<double>>();
      for (std::size_t k = 0; k < first.size(); ++k) {
        worst = std::max(worst, std::abs(v[static_cast<std::int64_t>(k)].item<double>() - first[k]));
      }
      for (std::size_t k = 0; k < last.size(); ++k) {
        worst = std::max(worst, std::abs(v[v.size(0) - 4 + static_cast<std::int64_t>(k)].item<double>() - last[k]));
      }
      // The sum over 384 values of a float32 row carries more rounding: 1e-3.
      CHECK(std::abs(v.sum().item<double>() - e["sum"].get<double>()) < 1e-3);
    }
    const torch::Tensor p = out.pooled.to(torch::kFloat64);
    for (const auto& e : ref["pooled"]) {
      const torch::Tensor v = p[e["row"].get<std::int64_t>()];
      const auto first = e["first"].get<std::vector<double>>();
      for (std::size_t k = 0; k < first.size(); ++k) {
        worst = std::max(worst, std::abs(v[static_cast<std::int64_t>(k)].item<double>() - first[k]));
      }
      CHECK(std::abs(v.sum().item<double>() - e["sum"].get<double>()) < 1e-3);
    }
    CHECK(worst <= 1e-4);
    return worst;
  };
  const double fused = check(opsbench::models::bert_infer(m, ids, mask));
  const double autograd = check(m->forward(ids, mask));
  INFO("max abs diff fused " << fused << ", autograd " << autograd);
  CHECK(fused <= 1e-4);
}

#endif  // OPSBENCH_HAVE_TORCH
