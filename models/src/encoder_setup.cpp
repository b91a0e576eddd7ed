#ifdef OPSBENCH_HAVE_TORCH

#include "encoder_setup.h"

#include <filesystem>

#include "opsbench/core/csv.h"
#include "opsbench/core/error.h"
#include "opsbench/models/pretrained.h"
#include "opsbench/models/safetensors.h"

namespace opsbench::models {

EncoderSource resolve_encoder(const std::string& weights, const std::vector<std::string>& training_sentences,
                              const SmallEncoderShape& shape, std::int64_t max_length) {
  EncoderSource source;
  if (weights == "mlm" || weights == "random") {
    source.kind = weights;
    auto vocab = build_wordpiece_vocab(training_sentences, static_cast<std::size_t>(shape.vocab_size));
    std::string joined;
    for (const auto& token : vocab) joined += token + "\n";
    source.tokenizer = std::make_shared<WordPieceTokenizer>(std::move(vocab));
    BertConfig& c = source.config;
    c.vocab_size = static_cast<std::int64_t>(source.tokenizer->vocab_size());
    c.hidden_size = shape.hidden;
    c.num_hidden_layers = shape.layers;
    c.num_attention_heads = shape.heads;
    c.intermediate_size = shape.intermediate;
    c.max_position_embeddings = std::max<std::int64_t>(max_length, 8);
    c.pad_token_id = source.tokenizer->pad_id();
    c.validate();
    source.manifest["bert.weights"] =
        weights == "mlm" ? "pretrained in the cell by masked-language modelling on " +
                               std::to_string(training_sentences.size()) + " training sentences"
                         : "random initialisation (no pretraining)";
    source.manifest["bert.vocab_sha256"] = sha256_hex(joined.data(), joined.size());
    source.manifest["bert.vocab"] = "built from the training sentences (" + std::to_string(c.vocab_size) + " tokens)";
  } else {
    const std::string dir = find_pretrained(weights);
    if (dir.empty())
      throw ConfigError("bert: pretrained weights '" + weights + "' not found; " + how_to_fetch());
    source.kind = "pretrained";
    const std::filesystem::path root(dir);
    source.config = BertConfig::from_json_file((root / "config.json").string());
    source.config.validate();
    const std::string vocab_path = (root / "vocab.txt").string();
    source.tokenizer = std::make_shared<WordPieceTokenizer>(WordPieceTokenizer::from_vocab_file(vocab_path));
    if (static_cast<std::int64_t>(source.tokenizer->vocab_size()) != source.config.vocab_size)
      throw DataError(vocab_path + ": " + std::to_string(source.tokenizer->vocab_size()) +
                      " tokens, but config.json says vocab_size " + std::to_string(source.config.vocab_size));
    if (max_length > source.config.max_position_embeddings)
      throw ConfigError("bert: max_length " + std::to_string(max_length) + " exceeds the model's " +
                        std::to_string(source.config.max_position_embeddings) + " positions");
    source.weights_path = (root / "model.safetensors").string();
    source.manifest["bert.weights"] = weights + " (" + dir + ")";
    source.manifest["bert.vocab_sha256"] = digest_file(vocab_path).sha256;
    source.manifest["bert.vocab"] = vocab_path;
  }
  source.manifest["bert.tokenizer"] = source.tokenizer->settings_string();
  source.manifest["bert.max_length"] = std::to_string(max_length);
  source.manifest["bert.config"] = source.config.to_json_text();
  return source;
}

void load_encoder_weights(BertModel& encoder, EncoderSource& source, const SafetensorsFile& file) {
  load_bert_weights(encoder, file);
  source.manifest["bert.weights_sha256"] = digest_file(source.weights_path).sha256;
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
