// Where a cell's encoder comes from, and what it is (private to models/).
//
// `weights` option of the bert-* classifiers:
//   a known name ("all-MiniLM-L6-v2") or a directory with config.json, vocab.txt, model.safetensors
//     -> the tokenizer from vocab.txt and the checkpoint's weights (models/include/.../pretrained.h
//        says where names are looked up; ci/fetch-models.sh fetches MiniLM). Missing: ConfigError
//        saying how to fetch it, so the cell is recorded as failed with the reason.
//   "mlm"    -> a WordPiece vocabulary built from the training sentences, a small encoder (hidden,
//               layers, heads, intermediate from the options) pretrained in the cell by masked-
//               language modelling on the same training sentences (never validation or test).
//   "random" -> the same small encoder, randomly initialised (a lower bound: no pretraining).
// The manifest (determinism record per cell) names the source, the sha256 of the weights and of the
// vocabulary, the tokenizer settings and the maximum length.
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bert.h"
#include "opsbench/models/wordpiece.h"

namespace opsbench::models {

struct SmallEncoderShape {
  std::int64_t hidden = 64;
  std::int64_t layers = 2;
  std::int64_t heads = 4;
  std::int64_t intermediate = 256;
  std::int64_t vocab_size = 4000;  // upper bound on the vocabulary built from the sentences
};

struct EncoderSource {
  std::string kind;  // "pretrained", "mlm", "random"
  std::string weights_path;  // model.safetensors of a pretrained source, empty otherwise
  BertConfig config;
  std::shared_ptr<WordPieceTokenizer> tokenizer;
  std::map<std::string, std::string> manifest;  // "bert.weights", "bert.vocab_sha256", ...
};

// Resolves the `weights` option. Sentences are the training sentences (vocabulary for mlm/random).
EncoderSource resolve_encoder(const std::string& weights, const std::vector<std::string>& training_sentences,
                              const SmallEncoderShape& shape, std::int64_t max_length);

// Loads a pretrained source's checkpoint (file = read_safetensors(source.weights_path)) into the
// encoder (strict, see load_bert_weights) and records its sha256 in the manifest.
void load_encoder_weights(BertModel& encoder, EncoderSource& source, const SafetensorsFile& file);

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
