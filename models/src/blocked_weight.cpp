// BlockedLayout (see blocked_weight.h).
#ifdef OPSBENCH_HAVE_TORCH
#include "blocked_weight.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "onednn_engine.h"
#include "opsbench/core/error.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "transpose16.h"
#define OPSBENCH_BLOCKED_X86 1
#endif

namespace opsbench::models {

using dnnl::memory;
using Dims = memory::dims;

struct BlockedLayout::Desc {
  memory::desc weights;  // the whole weight
  memory::desc block;    // one block alone
  memory::desc last;     // the last block alone where it is partial
};

BlockedLayout::~BlockedLayout() = default;

namespace {

// The weight layout oneDNN's matmul picks for `rows` x [in] times [in, out] (format "any"), and the
// name of the implementation that picked it.
std::pair<memory::desc, std::string> chosen_layout(std::int64_t out, std::int64_t in, std::int64_t rows) {
  const memory::desc src({rows, in}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc weights({in, out}, memory::data_type::f32, memory::format_tag::any);
  const memory::desc dst({rows, out}, memory::data_type::f32, memory::format_tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, weights, dst), onednn_matmul_attr({}),
                                        onednn_cpu_engine());
  return {pd.weights_desc(), pd.impl_info_str()};
}

std::string implementation_for(const memory::desc& weights, std::int64_t out, std::int64_t in, std::int64_t rows) {
  const memory::desc src({rows, in}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc dst({rows, out}, memory::data_type::f32, memory::format_tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, weights, dst), onednn_matmul_attr({}),
                                        onednn_cpu_engine());
  return pd.impl_info_str();
}

#ifdef OPSBENCH_BLOCKED_X86
// One 16 (in) x `out_block` tile: tile[kk * out_block + nn] = rows[nn * in + k0 + kk], zero past
// `valid_rows` rows and past `in` columns. out_block is a multiple of 16.
__attribute__((target("avx512f"))) void pack_tile_avx512(const float* rows, std::int64_t in, std::int64_t k0,
                                                         std::int64_t valid_rows, std::int64_t out_block, float* tile) {
  const std::int64_t width = std::min<std::int64_t>(16, in - k0);
  const __mmask16 columns = static_cast<__mmask16>((1u << width) - 1u);
  store_tile16(
      out_block, tile, [&](std::int64_t n) __attribute__((target("avx512f"))) {
        return n < valid_rows ? _mm512_maskz_loadu_ps(columns, rows + n * in + k0) : _mm512_setzero_ps();
      });
}

bool have_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}
#endif

}  // namespace

std::shared_ptr<const BlockedLayout> BlockedLayout::find(std::int64_t out, std::int64_t in,
                                                         const std::vector<std::int64_t>& rows) {
  if (out <= 0 || in <= 0 || rows.empty()) {
    throw ModelError("BlockedLayout: bad shape [" + std::to_string(out) + ", " + std::to_string(in) + "]");
  }
  using Key = std::tuple<std::int64_t, std::int64_t, std::vector<std::int64_t>>;
  static std::mutex mutex;
  static std::map<Key, std::shared_ptr<const BlockedLayout>> cache;
  static std::atomic<std::uint64_t> next_id{1};
  std::lock_guard<std::mutex> lock(mutex);
  const Key key{out, in, rows};
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;

  std::shared_ptr<BlockedLayout> found;
  try {
    const auto [desc, implementation] = chosen_layout(out, in, rows.front());
    const dnnl_memory_desc_t& d = desc.data;
    const auto& blocking = d.format_desc.blocking;
    bool writable = d.format_kind == dnnl_blocked && d.ndims == 2 && d.data_type == dnnl_f32 && d.offset0 == 0;
    std::int64_t in_block = 1, out_block = 1;
    if (writable && blocking.inner_nblks == 2 && blocking.inner_idxs[0] == 0 && blocking.inner_idxs[1] == 1) {
      in_block = blocking.inner_blks[0];
      out_block = blocking.inner_blks[1];
    } else if (writable && blocking.inner_nblks == 1 && blocking.inner_idxs[0] == 1) {
      out_block = blocking.inner_blks[0];
    } else {
      writable = false;
    }
    // Blocks of out features outermost, each one contiguous run: what pack() writes.
    writable =
        writable && blocking.strides[0] == in_block * out_block && blocking.strides[1] == d.padded_dims[0] * out_block;
    // One block's layout: the same with `columns` out features and no other block.
    const auto block_desc = [&](std::int64_t columns) {
      dnnl_memory_desc_t b = d;
      b.dims[1] = columns;
      b.padded_dims[1] = out_block;
      return memory::desc(b);
    };
    const memory::desc block = block_desc(std::min(out_block, out));
    const memory::desc last = out % out_block != 0 ? block_desc(out % out_block) : memory::desc();
    // Every shape must want this layout, and read it (or one block of it) given explicitly with the
    // implementation that chose it.
    for (std::size_t i = 0; writable && i < rows.size(); ++i) {
      const auto [wanted, by] = i == 0 ? std::make_pair(desc, implementation) : chosen_layout(out, in, rows[i]);
      writable = wanted == desc && implementation_for(desc, out, in, rows[i]) == by &&
                 implementation_for(block, std::min(out_block, out), in, rows[i]) == by &&
                 (out % out_block == 0 || implementation_for(last, out % out_block, in, rows[i]) == by);
    }
    if (writable) {
      found.reset(new BlockedLayout());
      found->desc_ = std::make_unique<Desc>(Desc{desc, block, last});
      found->out_ = out;
      found->in_ = in;
      found->in_block_ = in_block;
      found->out_block_ = out_block;
      found->in_padded_ = d.padded_dims[0];
      found->floats_ = desc.get_size() / sizeof(float);
      found->id_ = next_id++;
    }
  } catch (const dnnl::error&) {
    found.reset();  // no matmul for this shape: the caller reads the plain weight
  }
  cache.emplace(key, found);
  return found;
}

void BlockedLayout::pack(std::int64_t block, const float* rows, float* packed_block, bool allow_simd) const {
  const std::int64_t valid_rows = std::min(out_block_, out_ - block * out_block_);
  const std::int64_t tile_floats = in_block_ * out_block_;
#ifdef OPSBENCH_BLOCKED_X86
  if (allow_simd && in_block_ == 16 && out_block_ % 16 == 0 && have_avx512()) {
    for (std::int64_t k0 = 0; k0 < in_padded_; k0 += 16) {
      float* tile = packed_block + k0 * out_block_;
      if (k0 < in_) {
        pack_tile_avx512(rows, in_, k0, valid_rows, out_block_, tile);
      } else {
        std::fill(tile, tile + tile_floats, 0.f);
      }
    }
    return;
  }
#else
  (void)allow_simd;
#endif
  for (std::int64_t kb = 0; kb * in_block_ < in_padded_; ++kb) {
    float* tile = packed_block + kb * tile_floats;
    for (std::int64_t kk = 0; kk < in_block_; ++kk) {
      const std::int64_t k = kb * in_block_ + kk;
      for (std::int64_t nn = 0; nn < out_block_; ++nn) {
        tile[kk * out_block_ + nn] = (k < in_ && nn < valid_rows) ? rows[nn * in_ + k] : 0.f;
      }
    }
  }
}

namespace {

// This thread's buffer `which` of at least n floats, 64-byte aligned, kept for the thread's life.
float* thread_buffer(int which, std::int64_t n) {
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  thread_local std::unique_ptr<float, Free> buffers[2];
  thread_local std::int64_t sizes[2] = {0, 0};
  if (sizes[which] < n) {
    const std::size_t bytes = (static_cast<std::size_t>(n) * sizeof(float) + 63) / 64 * 64;
    buffers[which].reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    if (!buffers[which]) throw std::bad_alloc();
    sizes[which] = n;
  }
  return buffers[which].get();
}

void copy_rows(const float* from, std::int64_t from_ld, float* to, std::int64_t to_ld, std::int64_t rows,
               std::int64_t n) {
  for (std::int64_t r = 0; r < rows; ++r) std::memcpy(to + r * to_ld, from + r * from_ld, sizeof(float) * n);
}

// y[rows, columns] = act(x W^T + bias [+ y]) with W in `weights` (dims [in, columns]); primitives
// cached per thread under `id`. oneDNN 2.6's brgemm matmul reads blocked weights only with dense x
// and y (row strides in and columns; else its reference kernel, ~100x slower), so strided ones go
// through dense copies.
void blocked_matmul(std::uint64_t id, const memory::desc& weights, std::int64_t columns, std::int64_t in,
                    const float* x, std::int64_t rows, std::int64_t ldx, const float* packed, const float* bias,
                    float* y, std::int64_t ldy, PackedLinear::Epilogue e) {
  if (rows == 0) return;
  if (rows < 0 || ldx < in || ldy < columns) {
    throw ModelError("BlockedLayout: bad shape (rows " + std::to_string(rows) + ", ldx " + std::to_string(ldx) +
                     ", ldy " + std::to_string(ldy) + " for [" + std::to_string(columns) + ", " + std::to_string(in) +
                     "])");
  }
  if (ldx != in) {
    float* dense = thread_buffer(0, rows * in);
    copy_rows(x, ldx, dense, in, rows, in);
    return blocked_matmul(id, weights, columns, in, dense, rows, in, packed, bias, y, ldy, e);
  }
  if (ldy != columns) {
    // A residual without activation is added while copying out (one pass over y, not two).
    float* dense = thread_buffer(1, rows * columns);
    const bool add_out = e.accumulate && e.activation == PackedLinear::Activation::kNone;
    PackedLinear::Epilogue dense_e = e;
    if (add_out) {
      dense_e.accumulate = false;
    } else if (e.accumulate) {
      copy_rows(y, ldy, dense, columns, rows, columns);
    }
    blocked_matmul(id, weights, columns, in, x, rows, ldx, packed, bias, dense, columns, dense_e);
    for (std::int64_t r = 0; r < rows; ++r) {
      float* to = y + r * ldy;
      const float* from = dense + r * columns;
      if (add_out) {
        for (std::int64_t c = 0; c < columns; ++c) to[c] += from[c];
      } else {
        for (std::int64_t c = 0; c < columns; ++c) to[c] = from[c];
      }
    }
    return;
  }
  // A fused product makes hundreds of small calls per forward (324 for MiniLM at batch 1): each
  // kernel keeps its memory objects and argument map and re-points them per call (made per call,
  // with their allocations, they left two threads at batch 1 at 1.12-1.13x the merged model's time,
  // 1.08x without).
  struct Kernel {
    dnnl::matmul primitive;
    std::size_t scratchpad_bytes = 0;
    memory src, weights, dst, bias, scratchpad;
    std::unordered_map<int, memory> args;
  };
  using Key = std::tuple<std::uint64_t, std::int64_t, bool, bool, int>;
  thread_local std::map<Key, Kernel> kernels;
  try {
    const Key key{id, rows, bias != nullptr, e.accumulate, static_cast<int>(e.activation)};
    auto it = kernels.find(key);
    if (it == kernels.end()) {
      const memory::desc src({rows, in}, memory::data_type::f32, memory::format_tag::ab);
      const memory::desc bias_md({1, columns}, memory::data_type::f32, memory::format_tag::ab);
      const memory::desc dst({rows, columns}, memory::data_type::f32, memory::format_tag::ab);
      const dnnl::matmul::primitive_desc pd(
          dnnl::matmul::desc(src, weights, bias != nullptr ? bias_md : memory::desc(), dst), onednn_matmul_attr(e),
          onednn_cpu_engine());
      const dnnl::engine& engine = onednn_cpu_engine();
      Kernel k{dnnl::matmul(pd),
               pd.scratchpad_desc().get_size(),
               memory(src, engine, DNNL_MEMORY_NONE),
               memory(weights, engine, DNNL_MEMORY_NONE),
               memory(dst, engine, DNNL_MEMORY_NONE),
               memory(bias_md, engine, DNNL_MEMORY_NONE),
               memory(pd.scratchpad_desc(), engine, DNNL_MEMORY_NONE),
               {}};
      k.args = {{DNNL_ARG_SRC, k.src}, {DNNL_ARG_WEIGHTS, k.weights}, {DNNL_ARG_DST, k.dst}};
      if (bias != nullptr) k.args.emplace(DNNL_ARG_BIAS, k.bias);
      if (k.scratchpad_bytes > 0) k.args.emplace(DNNL_ARG_SCRATCHPAD, k.scratchpad);
      it = kernels.emplace(key, std::move(k)).first;
    }
    Kernel& k = it->second;
    k.src.set_data_handle(const_cast<float*>(x));
    k.weights.set_data_handle(const_cast<float*>(packed));
    k.dst.set_data_handle(y);
    if (bias != nullptr) k.bias.set_data_handle(const_cast<float*>(bias));
    if (k.scratchpad_bytes > 0) k.scratchpad.set_data_handle(onednn_thread_scratchpad_buffer(k.scratchpad_bytes));
    dnnl::stream& stream = onednn_thread_stream();
    k.primitive.execute(stream, k.args);
    stream.wait();
  } catch (const dnnl::error& err) {
    throw ModelError(std::string("oneDNN matmul (blocked weight) failed: ") + err.what());
  }
}

}  // namespace

void BlockedLayout::apply(const float* x, std::int64_t rows, std::int64_t ldx, const float* packed, const float* bias,
                          float* y, std::int64_t ldy, PackedLinear::Epilogue e) const {
  blocked_matmul(3 * id_, desc_->weights, out_, in_, x, rows, ldx, packed, bias, y, ldy, e);
}

void BlockedLayout::apply_block(std::int64_t block, const float* x, std::int64_t rows, std::int64_t ldx,
                                const float* packed_block, const float* bias, float* y, std::int64_t ldy,
                                PackedLinear::Epilogue e) const {
  const bool last = out_ - block * out_block_ < out_block_;
  blocked_matmul(3 * id_ + (last ? 2 : 1), last ? desc_->last : desc_->block, columns(block), in_, x, rows, ldx,
                 packed_block, bias, y, ldy, e);
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
