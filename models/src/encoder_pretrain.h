// Masked-language-model pretraining of a small BERT encoder on a dataset's own sentences, for cells
// where no pretrained checkpoint is at hand (private to models/).
//
// BERT's recipe (Devlin et al. 2019, Sec. 3.1): 15% of the real, non-special tokens of each batch
// are selected; of those 80% become [MASK], 10% a random vocabulary token, 10% stay; the loss is the
// cross-entropy of predicting the original tokens at the selected positions only. Head: dense +
// GELU + LayerNorm, then the decoder tied to the word embeddings plus a bias (Hugging Face
// BertForMaskedLM); the head is discarded after pretraining. AdamW, constant learning rate, batches
// of a seeded shuffle trimmed to their longest sequence. Draws from torch's default generator
// (seed it first) and from the config seed, so runs are repeatable on CPU.
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "bert.h"

namespace opsbench::models {

struct MlmConfig {
  int epochs = 3;
  int batch_size = 32;
  double lr = 1e-3;
  double mask_probability = 0.15;
  std::int64_t mask_id = 0;
  std::vector<std::int64_t> special_ids;  // never selected ([CLS], [SEP], [PAD], ...)
  std::uint64_t seed = 0;
  torch::Device device = torch::kCPU;
};

struct MlmResult {
  std::vector<double> loss;  // mean masked-token cross-entropy per epoch
  double seconds = 0;
};

// ids, mask: int64 [n, length] on the CPU. Trains `encoder` in place.
MlmResult pretrain_mlm(BertModel& encoder, const torch::Tensor& ids, const torch::Tensor& mask,
                       const MlmConfig& config);

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
