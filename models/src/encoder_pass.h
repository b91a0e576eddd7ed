// Every layer of a BERT encoder's inference forward in one OpenMP region (private to models/; used
// by bert.cpp for CPU float32 inference when every slot is dense, NF4 or LoRA over those).
//
// Why: run op by op, a two-thread forward opens ~65 OpenMP regions (MiniLM, batch 1: oneDNN and
// ATen each start their own), and under OMP_WAIT_POLICY=passive every region wakes the sleeping
// thread through the kernel: two-thread MiniLM took 33 ms per batch-1 forward against 16 ms with
// spinning threads. Here the threads start once per forward and meet at two barriers per layer
// (four with stage M; spin_barrier.h):
//   stage M  (layers with NF4 or LoRA slots only) each such weight written into scratch, in
//            blocks of rows (oneDNN's blocked layout) or row parts (plain) split between the
//            threads; a barrier before (the previous layer's stage C may still read the scratch)
//            and after
//   stage A  rows split in one part per thread: qkv = x [Wq/sqrt(d) | Wk | Wv]^T + b
//   --- barrier ---
//   stage B  one task per (batch row, head): attention products (attention_kernels.h)
//   --- barrier ---
//   stage C  the same row parts: a = LN(x + context Wo^T + bo); x = LN(a + act(a Wi^T + bi) Wout^T + bout),
//            then straight on to the next layer's stage A on these rows (no barrier needed: a
//            part's rows are read and written by its thread alone).
// One part per thread, not fixed-size chunks: at one thread, 64-row chunks cost BERT-base 10% (each
// chunk re-reads the weight; one large product keeps oneDNN's cache blocking). So the products'
// shapes, and their float rounding, follow the thread count; at a given count results repeat
// exactly (tested).
//
// Materialised weights (NF4, LoRA): written whole in stage M, 42 MB per MiniLM forward go out to
// memory and back, which cost a batch-1 forward 20% over the merged float32 model. So where a
// product covers few rows (MaterialisePolicy) its weight is written in oneDNN's blocked layout one
// block of 64 output columns at a time, into a buffer that stays in cache, and multiplied at once
// ("fused"). With more than one thread such a layer runs in column mode: each product is a stage
// of its own, its fused blocks split between the threads and multiplied with all rows (so each
// block is written once), the LayerNorms on row parts, with a barrier after each (stage C becomes
// five stages).
//
// Contract: x is [batch * length, hidden] row-major float32 (the embeddings' output) and is
// overwritten with the hidden states. With first_only, the last layer computes token 0 of each
// row only and writes it to first [batch, hidden]; else `first` is unused and x holds the last
// layer's output. mask_bias is [batch, length] (0 / lowest float) or nullptr. Every PackedLinear
// and AttentionProducts is prepared here before the region; run by one caller at a time (the
// objects and the scratch are the model's). Errors inside the region are rethrown after it.
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <cstdint>
#include <memory>
#include <vector>

#include "attention_kernels.h"
#include "blocked_weight.h"
#include "packed_linear.h"
#include "weight_rows.h"

namespace opsbench::models {

// One dense product of the pass: a PackedLinear (weight packed once, cached by the layer), or a
// weight materialised at the start of each layer (NF4 dequantised, LoRA's B A added) by `writer`
// into the pass's scratch and read there in place by oneDNN: in oneDNN's blocked layout where
// BlockedLayout::find offers one (blocked_weight.h), else plain (linear_unpacked).
struct PassProduct {
  PackedLinear* packed = nullptr;
  std::unique_ptr<WeightRowWriter> writer;  // when not packed
  std::vector<float> bias;                  // when not packed: the (scaled) bias, or empty
  std::int64_t out = 0, in = 0;
  float* weight = nullptr;                      // set by the pass: the scratch the writer fills
  std::shared_ptr<const BlockedLayout> layout;  // set by the pass: the scratch's layout, or null (plain)
  bool fused = false;                           // set by the pass: blocks written as multiplied

  bool defined() const { return packed != nullptr || writer != nullptr; }
  std::int64_t out_features() const { return packed != nullptr ? packed->out_features() : out; }
};

struct PackedEncoderLayer {
  // Stage A over all rows: each product writes columns [column, column + its out) of the q|k|v rows
  // (row stride 3 hidden), the query scaled by 1/sqrt(head_dim). Packed layers: one fused product;
  // the first_only last layer leaves the query out of this list: first_query runs on token-0 rows.
  struct Projection {
    PassProduct product;
    std::int64_t column = 0;
  };
  std::vector<Projection> projections;
  PassProduct first_query;
  PassProduct attention_output;
  PassProduct intermediate;  // its out_features may be below the config's (pruned)
  PassProduct output;
  PackedLinear::Activation activation = PackedLinear::Activation::kGeluErf;
  const float* attention_norm_weight = nullptr;
  const float* attention_norm_bias = nullptr;
  const float* output_norm_weight = nullptr;
  const float* output_norm_bias = nullptr;
  double eps = 1e-12;
  AttentionProducts* attention = nullptr;
};

struct EncoderPassShape {
  std::int64_t batch = 0, length = 0, hidden = 0, heads = 0;
};

// A float buffer on 64-byte (cache line) boundaries, grown on demand (contents then lost). Aligned
// because in column mode threads write neighbouring blocks of 64 columns of the same rows: a line
// shared by two blocks would bounce between the cores.
class AlignedFloats {
 public:
  float* grow(std::int64_t n);
  float* data() const { return data_.get(); }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float, Free> data_;
  std::int64_t size_ = 0;
};

// Scratch buffers of the pass, grown on demand and reused across forwards.
struct EncoderPassScratch {
  AlignedFloats qkv, query, context, attended, inner;
  std::vector<AlignedFloats> weights;  // materialised weights, one buffer per product position
};

// How the pass materialises weights. Process-wide; tests and benchmarks switch it to reach every
// path (not thread-safe: set it while no forward runs). The defaults are the fastest measured here.
struct MaterialisePolicy {
  // Write weights in oneDNN's blocked layout where BlockedLayout::find offers one, else plain rows.
  bool blocked = true;
  // Fuse (write each block as it is multiplied) where a block's product covers at most this many
  // rows; larger products write whole weights in stage M, whose cost is then the smaller share.
  std::int64_t most_fused_rows = 512;
};
MaterialisePolicy& materialise_policy();

// `layers` is taken by reference to point the materialised products at the scratch.
void run_encoder_pass(std::vector<PackedEncoderLayer>& layers, const EncoderPassShape& shape, float* x,
                      const float* mask_bias, bool first_only, float* first, EncoderPassScratch& scratch);

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
