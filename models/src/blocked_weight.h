// BlockedLayout: the blocked layout oneDNN's matmul reads a float32 weight in, for weights that are
// written anew for every forward (NF4 dequantised, LoRA's B A added: the encoder pass,
// encoder_pass.h). Private to models/.
//
// Why: handed a plain [out, in] weight, oneDNN's brgemm matmul copies it into its blocked layout
// (N inner, a transpose) inside every call; written straight into that layout, the weight is read
// as a PackedLinear's packed copy is. Measured on MiniLM (docs/encoders.md): the NF4 + LoRA forward
// at batch 1 went from 1.19x to ~1.1x the merged float32 model's time.
//
// Contract:
//   find(out, in, rows) asks oneDNN which weight layout its matmul wants for products of `rows` rows
//   (each entry one product shape) and returns it when every shape wants the same one and it is a
//   layout pack() can write: two inner blocks, in then out, as "BA16a64b", or out blocked alone;
//   else nullptr (then read the plain weight, linear_unpacked). Results are cached for the process;
//   call from outside parallel regions.
//   The layout is a sequence of independent blocks of `row_block()` weight rows (out features; the
//   last block may hold fewer), each one contiguous run of block_floats() values, padding included:
//   the block's rows of W transposed, [in_padded(), row_block()] row-major, zero past `in` and past
//   the weight's last row (both accepted layouts lay a block out so).
//   pack() writes one block from plain rows; threads may pack different blocks at once.
//   apply() is linear_unpacked (packed_linear.h) with the whole weight in this layout; apply_block()
//   the same for the output columns of one block, with that block alone (so a block can be
//   written into a small buffer that stays in cache and used at once). Both may run on several
//   threads at once and make their oneDNN primitive on first use per thread and shape. Strided x or
//   y cost a copy (oneDNN 2.6 reads blocked weights fast only with dense ones).
#pragma once

#ifdef OPSBENCH_HAVE_TORCH

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "packed_linear.h"

namespace opsbench::models {

class BlockedLayout {
 public:
  static std::shared_ptr<const BlockedLayout> find(std::int64_t out, std::int64_t in,
                                                   const std::vector<std::int64_t>& rows);

  std::int64_t out_features() const { return out_; }
  std::int64_t in_features() const { return in_; }
  std::int64_t row_block() const { return out_block_; }
  std::int64_t in_block() const { return in_block_; }    // 1 where in is not blocked
  std::int64_t in_padded() const { return in_padded_; }  // in, rounded up to in_block
  std::int64_t blocks() const { return (out_ + out_block_ - 1) / out_block_; }
  std::int64_t columns(std::int64_t block) const { return std::min(out_block_, out_ - block * out_block_); }
  std::size_t floats() const { return floats_; }  // of the whole packed weight, padding included
  std::int64_t block_floats() const { return in_padded_ * out_block_; }
  std::int64_t block_offset(std::int64_t block) const { return block * block_floats(); }

  // Block `block` of the weight: rows [block * row_block(), min(out, (block + 1) * row_block())) of
  // W given row-major at `rows` (row stride in; rows[0] is the block's first row) into
  // `packed_block` (block_floats() values; the whole weight's block sits at its block_offset()).
  // allow_simd false: the portable copy (tests compare it with the AVX-512 one).
  void pack(std::int64_t block, const float* rows, float* packed_block, bool allow_simd = true) const;

  // y[rows, out] = act(x W^T + bias [+ y]) with W in this layout at `packed`; bias may be nullptr.
  void apply(const float* x, std::int64_t rows, std::int64_t ldx, const float* packed, const float* bias, float* y,
             std::int64_t ldy, PackedLinear::Epilogue epilogue) const;
  // The block's output columns of the same, from the block alone at `packed_block`: y[rows, columns(block)]
  // (y[0] is the block's first column) and bias from the block's first column (or nullptr).
  void apply_block(std::int64_t block, const float* x, std::int64_t rows, std::int64_t ldx, const float* packed_block,
                   const float* bias, float* y, std::int64_t ldy, PackedLinear::Epilogue epilogue) const;

  ~BlockedLayout();

 private:
  BlockedLayout() = default;
  struct Desc;  // oneDNN's memory descriptors, kept out of this header
  std::unique_ptr<Desc> desc_;
  std::int64_t out_ = 0, in_ = 0;
  std::int64_t in_block_ = 1, out_block_ = 1;  // inner block sizes (in_block_ 1 when in is not blocked)
  std::int64_t in_padded_ = 0;
  std::size_t floats_ = 0;
  std::uint64_t id_ = 0;  // keys the per-thread primitive cache
};

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
