// BertConfig from config.json, checkpoint loading by Hugging Face name, state export and parameter
// counts for the encoder of bert.h.
#ifdef OPSBENCH_HAVE_TORCH

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bert.h"
#include "opsbench/core/error.h"

namespace opsbench::models {

namespace {

using nlohmann::json;

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// Reads config.json keys with their expected JSON type; errors name the source and the key.
class ConfigReader {
 public:
  ConfigReader(const json& j, const std::string& source) : j_(j), source_(source) {}

  void integer(const char* key, std::int64_t& out, bool required) {
    const json* v = find(key, required);
    if (v == nullptr) return;
    if (!v->is_number_integer()) fail(key, "expected an integer, found " + v->dump());
    out = v->get<std::int64_t>();
  }
  void number(const char* key, double& out) {
    const json* v = find(key, false);
    if (v == nullptr) return;
    if (!v->is_number()) fail(key, "expected a number, found " + v->dump());
    out = v->get<double>();
  }
  void string(const char* key, std::string& out) {
    const json* v = find(key, false);
    if (v == nullptr) return;
    if (!v->is_string()) fail(key, "expected a string, found " + v->dump());
    out = v->get<std::string>();
  }
  [[noreturn]] void fail(const char* key, const std::string& what) const {
    throw DataError(source_, 0, 0, std::string("key '") + key + "': " + what);
  }

 private:
  const json* find(const char* key, bool required) {
    const auto it = j_.find(key);
    // A JSON null counts as absent (Hugging Face writes null for unset optional fields).
    if (it == j_.end() || it->is_null()) {
      if (required) fail(key, "missing");
      return nullptr;
    }
    return &*it;
  }
  const json& j_;
  const std::string& source_;
};

}  // namespace

BertConfig BertConfig::from_json_text(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw DataError(source, 0, 0, std::string("config is not JSON: ") + e.what());
  }
  if (!j.is_object()) throw DataError(source, 0, 0, "config is not a JSON object");
  BertConfig c;
  ConfigReader r(j, source);
  r.integer("vocab_size", c.vocab_size, true);
  r.integer("hidden_size", c.hidden_size, true);
  r.integer("num_hidden_layers", c.num_hidden_layers, true);
  r.integer("num_attention_heads", c.num_attention_heads, true);
  r.integer("intermediate_size", c.intermediate_size, true);
  r.string("hidden_act", c.hidden_act);
  r.integer("max_position_embeddings", c.max_position_embeddings, false);
  r.integer("type_vocab_size", c.type_vocab_size, false);
  r.number("layer_norm_eps", c.layer_norm_eps);
  r.number("hidden_dropout_prob", c.hidden_dropout_prob);
  r.number("attention_probs_dropout_prob", c.attention_probs_dropout_prob);
  r.integer("pad_token_id", c.pad_token_id, false);
  r.number("initializer_range", c.initializer_range);
  std::string position = "absolute", model_type = "bert";
  r.string("position_embedding_type", position);
  r.string("model_type", model_type);
  if (position != "absolute") {
    throw ConfigError(source + ": position_embedding_type '" + position + "' is not supported (absolute)");
  }
  if (model_type != "bert") throw ConfigError(source + ": model_type '" + model_type + "' is not supported (bert)");
  return c;
}

BertConfig BertConfig::from_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, 0, 0, "cannot open config file");
  std::ostringstream text;
  text << in.rdbuf();
  return from_json_text(text.str(), path);
}

std::string BertConfig::to_json_text() const {
  const json j = {{"architectures", {"BertModel"}},
                  {"model_type", "bert"},
                  {"vocab_size", vocab_size},
                  {"hidden_size", hidden_size},
                  {"num_hidden_layers", num_hidden_layers},
                  {"num_attention_heads", num_attention_heads},
                  {"intermediate_size", intermediate_size},
                  {"hidden_act", hidden_act},
                  {"max_position_embeddings", max_position_embeddings},
                  {"type_vocab_size", type_vocab_size},
                  {"layer_norm_eps", layer_norm_eps},
                  {"hidden_dropout_prob", hidden_dropout_prob},
                  {"attention_probs_dropout_prob", attention_probs_dropout_prob},
                  {"pad_token_id", pad_token_id},
                  {"initializer_range", initializer_range},
                  {"position_embedding_type", "absolute"}};
  return j.dump(2) + "\n";
}

void BertConfig::validate() const {
  const auto positive = [](const char* key, std::int64_t v) {
    if (v < 1) throw ConfigError(std::string("bert config: ") + key + " must be >= 1, got " + std::to_string(v));
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("type_vocab_size", type_vocab_size);
  if (hidden_size % num_attention_heads != 0) {
    throw ConfigError("bert config: hidden_size " + std::to_string(hidden_size) +
                      " is not a multiple of num_attention_heads " + std::to_string(num_attention_heads));
  }
  if (hidden_act != "gelu" && hidden_act != "gelu_new" && hidden_act != "gelu_pytorch_tanh" && hidden_act != "relu") {
    throw ConfigError("bert config: hidden_act '" + hidden_act + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)");
  }
  if (!(layer_norm_eps > 0)) throw ConfigError("bert config: layer_norm_eps must be > 0");
  for (const auto& [key, p] : {std::pair<const char*, double>{"hidden_dropout_prob", hidden_dropout_prob},
                               {"attention_probs_dropout_prob", attention_probs_dropout_prob}}) {
    if (!(p >= 0 && p < 1)) throw ConfigError(std::string("bert config: ") + key + " must be in [0, 1)");
  }
  if (pad_token_id < 0 || pad_token_id >= vocab_size) {
    throw ConfigError("bert config: pad_token_id " + std::to_string(pad_token_id) + " outside the vocabulary");
  }
  if (!(initializer_range > 0)) throw ConfigError("bert config: initializer_range must be > 0");
}

std::vector<std::string> load_bert_weights(BertModel& model, const SafetensorsFile& file) {
  // Every parameter must sit in a dense slot or a plain module: other slots (LoRA, NF4) hold
  // tensors whose names and meaning a Hugging Face checkpoint does not have.
  for (std::int64_t l = 0; l < model->num_layers(); ++l) {
    for (int s = 0; s < 6; ++s) {
      if (dynamic_cast<DenseProjectionImpl*>(model->projection(l, Slot(s)).get()) == nullptr) {
        throw ModelError("load_bert_weights: encoder.layer." + std::to_string(l) + "." + slot_path(Slot(s)) +
                         " is not a DenseProjection; load the checkpoint before swapping slots");
      }
    }
  }
  const auto params = model->named_parameters(true);
  std::map<std::string, const StoredTensor*> by_name;  // model name -> checkpoint tensor
  std::vector<std::string> ignored;
  for (const StoredTensor& t : file.tensors) {
    const bool prefixed = starts_with(t.name, "bert.");
    const std::string name = prefixed ? t.name.substr(5) : t.name;
    if (params.find(name) == nullptr) {
      const bool ours = starts_with(name, "embeddings.") || starts_with(name, "encoder.") || starts_with(name, "pooler.");
      if (ours && name != "embeddings.position_ids") {
        throw DataError(file.path, 0, 0,
                        "tensor '" + t.name + "' belongs to the encoder but the model has no parameter '" + name +
                            "' (config.json does not match the checkpoint: layers " +
                            std::to_string(model->config().num_hidden_layers) + ")");
      }
      ignored.push_back(t.name);
      continue;
    }
    if (!by_name.emplace(name, &t).second) {
      throw DataError(file.path, 0, 0, "tensor '" + name + "' is present both with and without the 'bert.' prefix");
    }
  }
  // Check everything before writing anything.
  for (const auto& p : params) {
    const auto it = by_name.find(p.key());
    const std::vector<std::int64_t> expected = p.value().sizes().vec();
    if (it == by_name.end()) {
      throw DataError(file.path, 0, 0, "tensor '" + p.key() + "' (or 'bert." + p.key() + "') missing; expected shape " +
                                           shape_text(expected));
    }
    const StoredTensor& t = *it->second;
    if (t.shape != expected) {
      throw DataError(file.path, 0, 0, "tensor '" + t.name + "': expected shape " + shape_text(expected) +
                                           ", found " + shape_text(t.shape));
    }
    if (t.dtype != DType::kF32 && t.dtype != DType::kF16 && t.dtype != DType::kBF16) {
      throw DataError(file.path, 0, 0, "tensor '" + t.name + "': dtype " + dtype_name(t.dtype) +
                                           " is not a floating type (F32, F16, BF16)");
    }
  }
  torch::NoGradGuard no_grad;
  for (auto& p : params) {
    const StoredTensor& t = *by_name.at(p.key());
    torch::Tensor cpu;
    if (t.dtype == DType::kF32) {
      cpu = torch::empty(t.shape, torch::kFloat32);
      std::memcpy(cpu.data_ptr<float>(), t.bytes.data(), t.bytes.size());
    } else {
      std::vector<float> values = to_float32(t);
      cpu = torch::from_blob(values.data(), t.shape, torch::kFloat32).clone();
    }
    p.value().copy_(cpu);
  }
  std::sort(ignored.begin(), ignored.end());
  return ignored;
}

std::vector<StoredTensor> bert_state(const torch::nn::Module& model, const std::string& prefix) {
  std::vector<StoredTensor> out;
  const auto add = [&](const std::string& name, const torch::Tensor& value) {
    torch::Tensor t = value.detach().to(torch::kCPU).contiguous();
    StoredTensor s;
    s.name = prefix + name;
    s.shape = t.sizes().vec();
    switch (t.scalar_type()) {
      case torch::kFloat32: s.dtype = DType::kF32; break;
      case torch::kFloat16:
      case torch::kBFloat16:
      case torch::kFloat64:
        t = t.to(torch::kFloat32);
        s.dtype = DType::kF32;
        break;
      case torch::kUInt8: s.dtype = DType::kU8; break;
      case torch::kInt32: s.dtype = DType::kI32; break;
      case torch::kInt64: s.dtype = DType::kI64; break;
      default: throw ModelError("bert_state: tensor '" + s.name + "' has an unsupported dtype");
    }
    const auto* begin = static_cast<const std::uint8_t*>(t.data_ptr());
    s.bytes.assign(begin, begin + t.numel() * static_cast<std::int64_t>(t.element_size()));
    out.push_back(std::move(s));
  };
  for (const auto& p : model.named_parameters(true)) add(p.key(), p.value());
  for (const auto& b : model.named_buffers(true)) add(b.key(), b.value());
  return out;
}

ParameterCounts count_parameters(const torch::nn::Module& model) {
  ParameterCounts c;
  for (const auto& p : model.parameters(true)) {
    c.total += p.numel();
    if (p.requires_grad()) c.trainable += p.numel();
    c.bytes += p.numel() * static_cast<std::int64_t>(p.element_size());
  }
  for (const auto& b : model.buffers(true)) c.bytes += b.numel() * static_cast<std::int64_t>(b.element_size());
  return c;
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
