// WeightRowWriter: writes rows of a projection's effective weight, for the one-region encoder pass
// (encoder_pass.h), which materialises NF4 and LoRA weights at the start of each layer. Private to
// models/; implemented by the projections (bert.cpp, nf4.cpp, lora.cpp).
//
// Contract: made on the calling thread before the parallel region (where it may use ATen and keeps
// alive whatever it reads); write() then runs on OpenMP worker threads, several at once for
// disjoint rows, and touches no ATen.
#pragma once

#include <cstdint>

namespace opsbench::models {

class BlockedLayout;  // blocked_weight.h

class WeightRowWriter {
 public:
  virtual ~WeightRowWriter() = default;
  // Rows [begin, end) of scale * W (the scale given when the writer was made), row-major with row
  // stride in = the projection's in_features(), into `rows` (row `begin` at rows[0]).
  virtual void write(std::int64_t begin, std::int64_t end, float* rows) const = 0;
  // The same rows straight into one block of `layout` (end - begin <= layout.row_block()), into
  // `packed_block` with the block's padding: what layout.pack() writes from write()'s rows (NF4:
  // the same bits; LoRA's update summed in another order, so equal to float rounding). Returns
  // false where this writer cannot (the default): then write rows and pack them.
  virtual bool write_packed(std::int64_t begin, std::int64_t end, const BlockedLayout& layout,
                            float* packed_block) const {
    (void)begin, (void)end, (void)layout, (void)packed_block;
    return false;
  }
};

}  // namespace opsbench::models
