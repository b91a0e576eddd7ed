// BlockedLayout (models/src/blocked_weight.h): packing plain rows into oneDNN's blocked weight layout
// and multiplying with the whole weight or one block, against at::linear in double precision.
#include <catch2/catch.hpp>

#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <vector>

#include "blocked_weight.h"

namespace {

using opsbench::models::BlockedLayout;
using opsbench::models::PackedLinear;

// The whole weight packed block by block, each from its own plain rows.
std::vector<float> pack_all(const BlockedLayout& layout, const torch::Tensor& w, bool simd) {
  std::vector<float> packed(layout.floats(), -1.f);  // -1: padding left unwritten would show
  for (std::int64_t b = 0; b < layout.blocks(); ++b) {
    const float* rows = w.data_ptr<float>() + b * layout.row_block() * layout.in_features();
    layout.pack(b, rows, packed.data() + layout.block_offset(b), simd);
  }
  return packed;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

}  // namespace

TEST_CASE("BlockedLayout: packed weights multiply as the plain ones, whole and block by block",
          "[models][blocked_weight]") {
  // Shapes: full blocks; a partial last block of output columns and a partial tile of inputs; one
  // block narrower than a whole one.
  struct Shape {
    std::int64_t out, in, rows;
  };
  for (const Shape shape : {Shape{128, 64, 20}, Shape{70, 45, 9}, Shape{24, 16, 1}}) {
    CAPTURE(shape.out, shape.in, shape.rows);
    const auto layout = BlockedLayout::find(shape.out, shape.in, {shape.rows});
    if (!layout) {
      WARN("oneDNN offers no blocked layout pack() writes for this shape on this CPU: nothing to test here");
      continue;
    }
    CHECK(layout->out_features() == shape.out);
    CHECK(layout->blocks() * layout->row_block() >= shape.out);
    CHECK(layout->floats() == static_cast<std::size_t>(layout->blocks() * layout->block_floats()));
    CHECK(BlockedLayout::find(shape.out, shape.in, {shape.rows}) == layout);  // cached

    torch::manual_seed(3);
    const torch::Tensor w = torch::randn({shape.out, shape.in});
    const torch::Tensor bias = torch::randn({shape.out});
    const std::vector<float> packed = pack_all(*layout, w, true);
    CHECK(packed == pack_all(*layout, w, false));  // the AVX-512 copy writes the portable one's bits
    for (float v : packed) REQUIRE(v != -1.f);     // padding written (as zero)

    // Strided x and y (so the dense copies run), a residual in y and an activation.
    const torch::Tensor x_wide = torch::randn({shape.rows, shape.in + 5});
    const torch::Tensor x = x_wide.narrow(1, 0, shape.in);
    const torch::Tensor residual = torch::randn({shape.rows, shape.out});
    const torch::Tensor want = torch::relu(x.to(torch::kDouble).matmul(w.to(torch::kDouble).t()) +
                                           bias.to(torch::kDouble) + residual.to(torch::kDouble));
    PackedLinear::Epilogue e;
    e.accumulate = true;
    e.activation = PackedLinear::Activation::kRelu;
    const std::int64_t ldy = shape.out + 3;

    torch::Tensor y_whole = torch::zeros({shape.rows, ldy});
    y_whole.narrow(1, 0, shape.out).copy_(residual);
    layout->apply(x_wide.data_ptr<float>(), shape.rows, shape.in + 5, packed.data(), bias.data_ptr<float>(),
                  y_whole.data_ptr<float>(), ldy, e);
    CHECK(max_diff(y_whole.narrow(1, 0, shape.out), want) < 1e-4);
    CHECK(y_whole.narrow(1, shape.out, 3).abs().max().item<float>() == 0.f);  // past the columns: untouched

    torch::Tensor y_blocks = torch::zeros({shape.rows, ldy});
    y_blocks.narrow(1, 0, shape.out).copy_(residual);
    for (std::int64_t b = 0; b < layout->blocks(); ++b) {
      const std::int64_t n0 = b * layout->row_block();
      layout->apply_block(b, x_wide.data_ptr<float>(), shape.rows, shape.in + 5,
                          packed.data() + layout->block_offset(b), bias.data_ptr<float>() + n0,
                          y_blocks.data_ptr<float>() + n0, ldy, e);
    }
    CHECK(max_diff(y_blocks.narrow(1, 0, shape.out), want) < 1e-4);
    CHECK(y_blocks.narrow(1, shape.out, 3).abs().max().item<float>() == 0.f);
  }
}

TEST_CASE("BlockedLayout: bad shapes are refused with the shape named", "[models][blocked_weight]") {
  CHECK_THROWS_WITH(BlockedLayout::find(0, 16, {4}), Catch::Contains("[0, 16]"));
  CHECK_THROWS_WITH(BlockedLayout::find(16, 16, {}), Catch::Contains("[16, 16]"));
  const auto layout = BlockedLayout::find(32, 16, {4});
  if (!layout) return;
  std::vector<float> packed(layout->floats()), x(4 * 16), y(4 * 32);
  CHECK_THROWS_WITH(layout->apply(x.data(), 4, 8, packed.data(), nullptr, y.data(), 32, {}), Catch::Contains("ldx 8"));
}

#endif  // OPSBENCH_HAVE_TORCH
