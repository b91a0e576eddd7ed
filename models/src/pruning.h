// Iterative structured pruning of the encoder's MLP intermediate neurons (Zhang et al.'s
// resource-efficient fine-tuning: pruning on top of QLoRA), private to models/ (includes torch).
//
// Neuron j of layer l is row j of `intermediate.dense` (W_in [inter, hidden], bias b_in[j]) and
// column j of `output.dense` (W_out [hidden, inter]). Removing it removes exactly those values, so
// the pruned layer computes what the unpruned one computes with W_in[j, :] = 0 and b_in[j] = 0
// (act(0) = 0 for every supported activation).
//
// Importance (declared per run; biases are not part of either score):
// - magnitude: I_j = sqrt(sum_k W_in[j, k]^2 + sum_k W_out[k, j]^2), the L2 norm of all the
//   neuron's weights, on the effective (dequantised, adapter-merged) weights.
// - weight x gradient (first-order Taylor, Molchanov et al. 2017): I_j = sum over steps t of
//   sum over the neuron's weights w of |w * dL_t/dw|, where dL_t/dw is the gradient of step t's
//   mini-batch loss. GradientImportance gathers it: construct it before training, call accumulate()
//   once after every backward pass (fine_tune's GradientHook), read scores() before pruning.
//   Dense MLP slots must have trainable weights (full fine-tuning): accumulate() reads their .grad(),
//   which must hold that step's gradient only (the caller zeroes gradients between steps, as
//   fine_tune does). NF4 slots (QLoRA: frozen, no weight parameter) capture dL/dW = dY^T X inside
//   their backward pass (Nf4ProjectionImpl::set_capture), so no float32 weight gradient is kept; the
//   capture saves each NF4 MLP slot's input until the backward pass.
//
// Schedule: pruning is per layer (every layer loses the same number of neurons each step, so layers
// stay equally wide; a global ranking could empty a layer). Each step removes `fraction` of the
// ORIGINAL count (config().intermediate_size), rounded so that after k steps round(k x fraction x
// original) have gone in total (64 neurons, fraction 0.1: 6, 13, 19, 26, 32 after 1..5 steps), and
// never the last neuron of a layer. The neurons with the lowest scores go (ties: the higher index
// goes first); the kept ones keep their order.
//
// Physical shrinking rebuilds both slots as the same kind: dense -> dense (index_select copies; the
// weights' requires_grad is kept), NF4 -> NF4 with the same double-quantisation flag, re-quantised
// from the dequantised kept rows/columns. For intermediate.dense the kept rows are whole blocks when
// hidden is a multiple of 64 (every BERT size), and a block's values are codes x its absmax, so the
// re-quantised codes are the same; output.dense loses columns, its blocks of 64 are re-cut along the
// shorter rows, and each value is rounded once more to the new block's code grid (error <= 0.152 x
// the new block's absmax). Double-quantised absmax values are re-quantised too. LoRA-wrapped MLP
// slots are refused (ConfigError: merge or do not adapt the MLP slots).
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bert.h"

namespace opsbench::models {

enum class NeuronImportance { kMagnitude, kWeightGradient };
const char* neuron_importance_name(NeuronImportance importance);  // "magnitude", "weight_gradient"
// ConfigError listing the candidates for an unknown name.
NeuronImportance parse_neuron_importance(const std::string& name);

// Magnitude scores per layer, float32 [current intermediate size of the layer], on the CPU.
std::vector<torch::Tensor> magnitude_importance(const BertModel& model);

// Weight x gradient scores (see above). One instance per pruning step: pruning rebuilds the slots,
// so an instance made before a prune must not be used after it. The destructor stops NF4 capture.
class GradientImportance {
 public:
  // ConfigError when an MLP slot is dense with a frozen weight, LoRA-wrapped, or of another kind.
  explicit GradientImportance(BertModel model);
  ~GradientImportance();
  GradientImportance(const GradientImportance&) = delete;
  GradientImportance& operator=(const GradientImportance&) = delete;

  // Adds this step's |W x dL/dW| of the dense slots (NF4 slots add theirs during backward).
  // ModelError when a dense weight has no gradient.
  void accumulate();
  std::int64_t steps() const { return steps_; }
  // Per layer float32 [intermediate] on the CPU. ModelError when nothing was accumulated (no
  // backward pass reached the MLP slots).
  std::vector<torch::Tensor> scores() const;

 private:
  BertModel model_;
  std::vector<torch::Tensor> dense_scores_;  // per layer; undefined for NF4 layers
  std::int64_t steps_ = 0;
};

struct PruneReport {
  std::int64_t original = 0;                               // config().intermediate_size
  std::vector<std::int64_t> removed;                       // per layer, this step
  std::vector<std::int64_t> remaining;                     // per layer, after this step
  std::vector<std::vector<std::int64_t>> removed_neurons;  // per layer, indices before this step
  std::int64_t total_removed() const;
  // Cumulative fraction of the original neurons removed, over all layers.
  double pruned_fraction() const;
};

// One step (see the schedule above). scores: one tensor per layer of the layer's current size.
// ConfigError for fraction outside (0, 1], scores of the wrong count or size.
PruneReport prune_mlp_step(BertModel& model, const std::vector<torch::Tensor>& scores, double fraction);

// Keeps the neurons `keep` (distinct, ascending, within the layer's current size, at least one) of
// one layer, rebuilding both MLP slots as described above.
void shrink_mlp(BertModel& model, std::int64_t layer, const std::vector<std::int64_t>& keep);

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
