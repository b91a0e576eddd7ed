// Fine-tuning and inference loops for text classifiers over a BERT encoder (private to models/).
//
// TextClassifier: logits = classifier(dropout([pooled ; numeric_mlp(numeric)])), where pooled is the
// encoder's pooler output (Hugging Face BertForSequenceClassification) and the numeric branch (thesis
// ch. 4: an LLM with extra layers for numeric job features) exists only when numeric_dim > 0.
// Parameter names: `bert.*` (checkpoint names under the `bert.` prefix), `numeric.*`, `classifier.*`.
//
// fine_tune(): AdamW (decoupled weight decay, none on biases and LayerNorm weights, as Hugging Face's
// Trainer does) over the parameters that require grad, learning rate warmed up linearly over the
// first warmup_fraction of the steps and then decayed linearly to 0, gradient norm clipped to 1,
// mean cross-entropy. Each epoch visits the rows in a seeded portable shuffle, in batches sliced from
// pre-tokenised tensors and trimmed to the batch's longest real sequence (padding never reaches the
// encoder beyond that). With validation rows, F1 on them is computed after every epoch (binary F1
// of class 1 for two classes, macro F1 otherwise); the parameters of the best epoch are restored at
// the end and training stops after `patience` epochs without improvement (0 = never early).
// Deterministic for a seed on CPU (dropout draws from torch's generator, seeded by the caller).
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bert.h"

namespace opsbench::models {

class TextClassifierImpl : public torch::nn::Module {
 public:
  TextClassifierImpl(const BertConfig& config, std::int64_t num_labels, std::int64_t numeric_dim = 0,
                     std::vector<std::int64_t> numeric_hidden = {64});
  // ids, mask: int64 [batch, length]; numeric: float [batch, numeric_dim] or undefined.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& numeric = {});
  std::int64_t numeric_dim() const { return numeric_dim_; }

  BertModel bert{nullptr};
  torch::nn::Sequential numeric{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear classifier{nullptr};

 private:
  std::int64_t numeric_dim_ = 0;
};
TORCH_MODULE(TextClassifier);

// Pre-tokenised rows (CPU tensors): ids and mask int64 [n, max_length], numeric float [n, d] or
// undefined, labels int64 [n] or undefined.
struct EncodedRows {
  torch::Tensor ids, mask, numeric, labels;
  std::int64_t size() const { return ids.defined() ? ids.size(0) : 0; }
};

struct FineTuneConfig {
  int epochs = 3;
  int batch_size = 16;
  double lr = 5e-5;
  double weight_decay = 0.01;
  double warmup_fraction = 0.1;
  int patience = 0;
  int eval_batch_size = 64;
  std::uint64_t seed = 0;
  torch::Device device = torch::kCPU;
};

struct FineTuneResult {
  int epochs_run = 0;
  int best_epoch = 0;                  // 1-based; the epoch whose parameters are kept
  std::vector<double> train_loss;      // mean training cross-entropy per epoch
  std::vector<double> validation_f1;   // per epoch, empty without validation rows
  double seconds = 0;
};

// Called after each optimizer.backward() (before the step) with the step index; pruning uses it to
// accumulate |weight x gradient| importance. May be empty.
using GradientHook = std::function<void(std::int64_t step)>;

FineTuneResult fine_tune(TextClassifier& model, const EncodedRows& train, const EncodedRows* validation,
                         int num_classes, const FineTuneConfig& config, const GradientHook& on_gradients = {});

// Softmax probabilities [n, classes] as float64 on the CPU, in eval mode without autograd, batches of
// `batch_size` rows trimmed to their longest real sequence.
torch::Tensor predict_probabilities(TextClassifier& model, const EncodedRows& rows, int batch_size,
                                    const torch::Device& device);

// Binary F1 of class 1 (two classes) or macro F1 (more) of argmax predictions.
double selection_f1(const torch::Tensor& probabilities, const torch::Tensor& labels, int num_classes);

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
