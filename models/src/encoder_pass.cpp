// run_encoder_pass (see encoder_pass.h).
#ifdef OPSBENCH_HAVE_TORCH
#include "encoder_pass.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>

#include "layer_norm_kernel.h"
#include "opsbench/core/error.h"
#include "spin_barrier.h"

namespace opsbench::models {

namespace {

using Epilogue = PackedLinear::Epilogue;

Epilogue plain() { return {}; }
Epilogue accumulate() {
  Epilogue e;
  e.accumulate = true;
  return e;
}
Epilogue activated(PackedLinear::Activation a) {
  Epilogue e;
  e.activation = a;
  return e;
}

// Part `part` of `parts` near-equal row ranges of `rows` (the row-wise stages give each thread one
// part: a few large products keep oneDNN's cache blocking, which 64-row chunks lost at one thread).
struct Chunk {
  std::int64_t begin, rows;
};
Chunk chunk(std::int64_t part, std::int64_t parts, std::int64_t rows) {
  const std::int64_t begin = rows * part / parts;
  return {begin, rows * (part + 1) / parts - begin};
}

// The distinct non-zero part sizes of `rows` in `parts` (one or two).
std::vector<std::int64_t> chunk_sizes(std::int64_t rows, std::int64_t parts) {
  std::vector<std::int64_t> sizes;
  for (std::int64_t p = 0; p < parts; ++p) {
    const std::int64_t n = chunk(p, parts, rows).rows;
    if (n > 0 && std::find(sizes.begin(), sizes.end(), n) == sizes.end()) sizes.push_back(n);
  }
  return sizes;
}

void copy_rows(const float* from, std::int64_t from_ld, float* to, std::int64_t to_ld, std::int64_t rows,
               std::int64_t n) {
  for (std::int64_t r = 0; r < rows; ++r) std::memcpy(to + r * to_ld, from + r * from_ld, sizeof(float) * n);
}

void prepare_product(PassProduct& p, std::int64_t rows, std::int64_t ldx, std::int64_t ldy, Epilogue e) {
  if (p.packed != nullptr) p.packed->prepare(rows, ldx, ldy, e);  // linear_unpacked caches per thread
}

// This thread's buffer for `n` floats of a weight block's plain rows, kept for the thread's life.
float* rows_buffer(std::int64_t n) {
  thread_local std::vector<float> buffer;
  if (static_cast<std::int64_t>(buffer.size()) < n) buffer.resize(static_cast<std::size_t>(n));
  return buffer.data();
}

// This thread's buffer for one packed weight block: 64-byte aligned, as oneDNN's own packed weights.
float* block_buffer(std::int64_t n) {
  thread_local AlignedFloats buffer;
  return buffer.grow(n);
}

// Block b of a fused product: written, packed into this thread's buffer and multiplied while it is
// still in cache (encoder_pass.h: why); y is the whole output.
void apply_fused_block(const PassProduct& p, std::int64_t b, const float* x, std::int64_t x_rows, std::int64_t ldx,
                       float* y, std::int64_t ldy, Epilogue e) {
  const BlockedLayout& layout = *p.layout;
  const std::int64_t begin = b * layout.row_block();
  float* block = block_buffer(layout.block_floats());
  if (!p.writer->write_packed(begin, begin + layout.columns(b), layout, block)) {
    float* rows = rows_buffer(layout.row_block() * p.in);
    p.writer->write(begin, begin + layout.columns(b), rows);
    layout.pack(b, rows, block);
  }
  layout.apply_block(b, x, x_rows, ldx, block, p.bias.empty() ? nullptr : p.bias.data() + begin, y + begin, ldy, e);
}

void apply_fused(const PassProduct& p, const float* x, std::int64_t x_rows, std::int64_t ldx, float* y,
                 std::int64_t ldy, Epilogue e) {
  for (std::int64_t b = 0; b < p.layout->blocks(); ++b) apply_fused_block(p, b, x, x_rows, ldx, y, ldy, e);
}

void apply_product(const PassProduct& p, const float* x, std::int64_t rows, std::int64_t ldx, float* y,
                   std::int64_t ldy, Epilogue e) {
  if (p.packed != nullptr) {
    p.packed->apply(x, rows, ldx, y, ldy, e);
  } else if (p.fused) {
    apply_fused(p, x, rows, ldx, y, ldy, e);
  } else if (p.layout) {
    p.layout->apply(x, rows, ldx, p.weight, p.bias.empty() ? nullptr : p.bias.data(), y, ldy, e);
  } else {
    linear_unpacked(x, rows, ldx, p.weight, p.bias.empty() ? nullptr : p.bias.data(), p.out, p.in, y, ldy, e);
  }
}

// One forward's layout: dimensions, the layers and where every buffer is.
struct Pass {
  std::vector<PackedEncoderLayer>& layers;
  std::int64_t batch, length, h, nh, rows, inner_ld, parts;
  float *x, *qkv, *query, *context, *attended, *inner, *first;
  const float* mask_bias;
  bool first_only;
  std::vector<std::vector<PassProduct*>> materialised;  // per layer, the products stage M writes

  bool last_first(std::size_t l) const { return first_only && l + 1 == layers.size(); }

  AttentionProducts::Shape attention_shape(std::size_t l) const {
    AttentionProducts::Shape s;
    s.batch = batch;
    s.heads = nh;
    s.query_length = last_first(l) ? 1 : length;
    s.key_length = length;
    s.head_dim = h / nh;
    s.q_stride = last_first(l) ? h : 3 * h;
    s.k_stride = s.v_stride = 3 * h;
    s.context_stride = h;
    return s;
  }

  // Every packed kernel shape the region will use, made before it (they are not made concurrently).
  void prepare() const {
    for (std::size_t l = 0; l < layers.size(); ++l) {
      PackedEncoderLayer& L = layers[l];
      const std::int64_t m = L.intermediate.out_features();
      for (std::int64_t n : chunk_sizes(rows, parts)) {
        for (auto& p : L.projections) prepare_product(p.product, n, h, 3 * h, plain());
      }
      const std::int64_t c_rows = last_first(l) ? batch : rows;
      if (last_first(l)) {
        for (std::int64_t n : chunk_sizes(batch, parts)) prepare_product(L.first_query, n, length * h, h, plain());
      }
      L.attention->prepare(attention_shape(l));
      for (std::int64_t n : chunk_sizes(c_rows, parts)) {
        prepare_product(L.attention_output, n, h, h, accumulate());
        prepare_product(L.intermediate, n, h, m, activated(L.activation));
        prepare_product(L.output, n, m, h, accumulate());
      }
    }
  }

  // Stage M of layer l: a blocked product has one task per block of rows (written into this
  // thread's row buffer, then packed), a plain one a task per row part.
  static std::int64_t tasks_of(const PassProduct& p, std::int64_t parts) {
    return p.layout ? p.layout->blocks() : parts;
  }
  void materialise(std::size_t l, std::int64_t task) const {
    for (const PassProduct* p : materialised[l]) {
      const std::int64_t n = tasks_of(*p, parts);
      if (task >= n) {
        task -= n;
        continue;
      }
      if (p->layout) {
        const std::int64_t begin = task * p->layout->row_block();
        const std::int64_t end = std::min(p->out, begin + p->layout->row_block());
        float* block = p->weight + p->layout->block_offset(task);
        if (!p->writer->write_packed(begin, end, *p->layout, block)) {
          float* rows = rows_buffer((end - begin) * p->in);
          p->writer->write(begin, end, rows);
          p->layout->pack(task, rows, block);
        }
      } else {
        const Chunk c = chunk(task, parts, p->out);
        if (c.rows > 0) p->writer->write(c.begin, c.begin + c.rows, p->weight + c.begin * p->in);
      }
      return;
    }
  }
  std::int64_t materialise_tasks(std::size_t l) const {
    std::int64_t n = 0;
    for (const PassProduct* p : materialised[l]) n += tasks_of(*p, parts);
    return n;
  }

  // Stage A of layer l: task t runs part t % parts of projection t / parts over all rows; with
  // first_only, the tasks after those are the parts of the first-token query rows.
  void projections(std::size_t l, std::int64_t task) const {
    const PackedEncoderLayer& L = layers[l];
    const std::int64_t all_rows_tasks = static_cast<std::int64_t>(L.projections.size()) * parts;
    if (task < all_rows_tasks) {
      const auto& p = L.projections[static_cast<std::size_t>(task / parts)];
      const Chunk c = chunk(task % parts, parts, rows);
      if (c.rows > 0)
        apply_product(p.product, x + c.begin * h, c.rows, h, qkv + c.begin * 3 * h + p.column, 3 * h, plain());
      return;
    }
    const Chunk c = chunk(task - all_rows_tasks, parts, batch);
    if (c.rows > 0)
      apply_product(L.first_query, x + c.begin * length * h, c.rows, length * h, query + c.begin * h, h, plain());
  }
  std::int64_t projection_tasks(std::size_t l) const {
    return static_cast<std::int64_t>(layers[l].projections.size()) * parts + (last_first(l) ? parts : 0);
  }

  void attention(std::size_t l, std::int64_t task) const {
    const float* q = last_first(l) ? query : qkv;
    layers[l].attention->run_task(attention_shape(l), task, q, qkv + h, qkv + 2 * h, mask_bias, context);
  }

  // Column mode: a layer with fused products run by more than one thread. Each fused weight block is
  // then written once, by one thread, and multiplied with all rows (in row mode every thread would
  // write every block for its own rows); so each product is a stage of its own, split in blocks of
  // columns (fused) or row parts (others), and stage C becomes five stages with barriers between.
  bool column_mode(std::size_t l) const {
    if (parts <= 1) return false;
    const PackedEncoderLayer& L = layers[l];
    bool fused = L.first_query.fused || L.attention_output.fused || L.intermediate.fused || L.output.fused;
    for (const auto& p : L.projections) fused = fused || p.product.fused;
    return fused;
  }
  std::int64_t product_tasks(const PassProduct& p) const {
    return !p.defined() ? 0 : p.fused ? p.layout->blocks() : parts;
  }
  // Task t of p over n_rows rows: y = act(x W^T + b [+ residual, copied into y first]).
  void product_task(const PassProduct& p, std::int64_t t, const float* in, std::int64_t n_rows, std::int64_t ldx,
                    float* y, std::int64_t ldy, Epilogue e, const float* residual, std::int64_t ldr) const {
    if (p.fused) {
      const std::int64_t n0 = t * p.layout->row_block();
      if (residual != nullptr) copy_rows(residual + n0, ldr, y + n0, ldy, n_rows, p.layout->columns(t));
      apply_fused_block(p, t, in, n_rows, ldx, y, ldy, e);
      return;
    }
    const Chunk c = chunk(t, parts, n_rows);
    if (c.rows == 0) return;
    if (residual != nullptr) copy_rows(residual + c.begin * ldr, ldr, y + c.begin * ldy, ldy, c.rows, p.out_features());
    apply_product(p, in + c.begin * ldx, c.rows, ldx, y + c.begin * ldy, ldy, e);
  }
  // Stage A in column mode: the projections' tasks, then the first-token query's.
  std::int64_t column_projection_tasks(std::size_t l) const {
    std::int64_t n = product_tasks(layers[l].first_query);
    for (const auto& p : layers[l].projections) n += product_tasks(p.product);
    return n;
  }
  void column_projections(std::size_t l, std::int64_t t) const {
    const PackedEncoderLayer& L = layers[l];
    for (const auto& p : L.projections) {
      if (t < product_tasks(p.product))
        return product_task(p.product, t, x, rows, h, qkv + p.column, 3 * h, plain(), nullptr, 0);
      t -= product_tasks(p.product);
    }
    product_task(L.first_query, t, x, batch, length * h, query, h, plain(), nullptr, 0);
  }
  // Stage C in column mode, sub-stage `step` (0-4), task t.
  std::int64_t column_feed_forward_tasks(std::size_t l, int step) const {
    const PackedEncoderLayer& L = layers[l];
    const PassProduct* product[5] = {&L.attention_output, nullptr, &L.intermediate, &L.output, nullptr};
    return product[step] != nullptr ? product_tasks(*product[step]) : parts;
  }
  void column_feed_forward(std::size_t l, int step, std::int64_t t) const {
    const PackedEncoderLayer& L = layers[l];
    const std::int64_t m = L.intermediate.out_features();
    const bool lf = last_first(l);
    const std::int64_t c_rows = lf ? batch : rows;
    float* out = lf ? first : x;
    if (step == 0) {
      product_task(L.attention_output, t, context, c_rows, h, attended, h, accumulate(), x, lf ? length * h : h);
    } else if (step == 2) {
      product_task(L.intermediate, t, attended, c_rows, h, inner, m, activated(L.activation), nullptr, 0);
    } else if (step == 3) {
      product_task(L.output, t, inner, c_rows, m, out, h, accumulate(), attended, h);
    } else {
      const Chunk c = chunk(t, parts, c_rows);
      const bool first_norm = step == 1;
      if (c.rows > 0)
        layer_norm_rows((first_norm ? attended : out) + c.begin * h, c.rows, h, h,
                        first_norm ? L.attention_norm_weight : L.output_norm_weight,
                        first_norm ? L.attention_norm_bias : L.output_norm_bias, L.eps);
    }
  }

  // Stage C of layer l for part `task` of its output rows.
  void feed_forward(std::size_t l, std::int64_t task) const {
    const PackedEncoderLayer& L = layers[l];
    const std::int64_t m = L.intermediate.out_features();
    const bool lf = last_first(l);
    const Chunk c = chunk(task, parts, lf ? batch : rows);
    if (c.rows == 0) return;
    const std::int64_t residual_ld = lf ? length * h : h;
    float* a = attended + c.begin * h;
    copy_rows(x + c.begin * residual_ld, residual_ld, a, h, c.rows, h);
    apply_product(L.attention_output, context + c.begin * h, c.rows, h, a, h, accumulate());
    layer_norm_rows(a, c.rows, h, h, L.attention_norm_weight, L.attention_norm_bias, L.eps);
    float* i = inner + c.begin * inner_ld;
    apply_product(L.intermediate, a, c.rows, h, i, m, activated(L.activation));
    float* out = (lf ? first : x) + c.begin * h;
    copy_rows(a, h, out, h, c.rows, h);
    apply_product(L.output, i, c.rows, m, out, h, accumulate());
    layer_norm_rows(out, c.rows, h, h, L.output_norm_weight, L.output_norm_bias, L.eps);
  }
  std::int64_t feed_forward_tasks() const { return parts; }
};

// The products of a layer in a fixed order (their index is the scratch buffer a materialised one
// uses), each with the rows it runs on: all rows (q/k/v), the batch (the first-token query) or the
// rows stage C computes.
std::vector<std::pair<PassProduct*, std::int64_t>> products_of(PackedEncoderLayer& L, const EncoderPassShape& shape,
                                                               bool last_first) {
  const std::int64_t rows = shape.batch * shape.length;
  std::vector<std::pair<PassProduct*, std::int64_t>> all;
  for (auto& p : L.projections) all.emplace_back(&p.product, rows);
  all.emplace_back(&L.first_query, shape.batch);
  for (PassProduct* p : {&L.attention_output, &L.intermediate, &L.output})
    all.emplace_back(p, last_first ? shape.batch : rows);
  return all;
}

// The first exception thrown by any thread; once one is recorded, the others skip their work but
// keep meeting at the barriers, so no thread waits for one that left.
class FirstError {
 public:
  template <typename Work>
  void guard(const Work& work) {
    if (failed_.load(std::memory_order_relaxed)) return;
    try {
      work();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      failed_.store(true, std::memory_order_relaxed);
    }
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::atomic<bool> failed_{false};
  std::mutex mutex_;
  std::exception_ptr error_;
};

}  // namespace

void AlignedFloats::Free::operator()(float* p) const { std::free(p); }

float* AlignedFloats::grow(std::int64_t n) {
  if (n > size_) {
    data_.reset(
        static_cast<float*>(std::aligned_alloc(64, (static_cast<std::size_t>(n) * sizeof(float) + 63) / 64 * 64)));
    if (!data_) throw std::bad_alloc();
    size_ = n;
  }
  return data_.get();
}

MaterialisePolicy& materialise_policy() {
  static MaterialisePolicy policy;
  return policy;
}

void run_encoder_pass(std::vector<PackedEncoderLayer>& layers, const EncoderPassShape& shape, float* x,
                      const float* mask_bias, bool first_only, float* first, EncoderPassScratch& scratch) {
  if (layers.empty()) return;
  const MaterialisePolicy policy = materialise_policy();
  const std::int64_t rows = shape.batch * shape.length, h = shape.hidden;
  if (rows <= 0 || h <= 0 || shape.heads <= 0 || h % shape.heads != 0) {
    throw ModelError("encoder pass: bad shape (batch " + std::to_string(shape.batch) + ", length " +
                     std::to_string(shape.length) + ", hidden " + std::to_string(h) + ", heads " +
                     std::to_string(shape.heads) + ")");
  }
  // One part of the row-wise stages per thread; the team may come out smaller (then a thread takes
  // several parts), never larger.
  const std::int64_t most_tasks = std::max(rows, shape.batch * shape.heads);
  const int threads =
      omp_in_parallel() ? 1 : static_cast<int>(std::min<std::int64_t>(omp_get_max_threads(), most_tasks));
  // Materialised weights: position k of every layer shares scratch buffer k, sized for the largest
  // (all sizes first: growing a buffer moves it).
  std::int64_t inner_ld = 1;
  std::vector<std::vector<PassProduct*>> materialised(layers.size());
  std::vector<std::pair<std::size_t, PassProduct*>> scratch_users;
  std::vector<std::int64_t> scratch_floats;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    inner_ld = std::max(inner_ld, layers[l].intermediate.out_features());
    const bool last_first = first_only && l + 1 == layers.size();
    const auto all = products_of(layers[l], shape, last_first);
    if (scratch_floats.size() < all.size()) scratch_floats.resize(all.size(), 0);
    for (std::size_t k = 0; k < all.size(); ++k) {
      PassProduct& p = *all[k].first;
      if (p.packed != nullptr || p.writer == nullptr) continue;
      // Fused blocks multiply all rows (column mode, more than one thread) or the one part (one
      // thread); others run on row parts. The layout must suit each of those shapes.
      const std::int64_t product_rows = all[k].second;
      std::vector<std::int64_t> shapes = chunk_sizes(product_rows, threads);
      const bool fuse = (threads > 1 ? product_rows : shapes.front()) <= policy.most_fused_rows;
      if (fuse) shapes = {product_rows};
      if (policy.blocked) p.layout = BlockedLayout::find(p.out, p.in, shapes);
      if (fuse && p.layout) {
        p.fused = true;
        continue;
      }
      if (fuse && policy.blocked) p.layout = BlockedLayout::find(p.out, p.in, chunk_sizes(product_rows, threads));
      const std::int64_t floats = p.layout ? static_cast<std::int64_t>(p.layout->floats()) : p.out * p.in;
      scratch_floats[k] = std::max(scratch_floats[k], floats);
      scratch_users.emplace_back(k, &p);
      materialised[l].push_back(&p);
    }
  }
  if (scratch.weights.size() < scratch_floats.size()) scratch.weights.resize(scratch_floats.size());
  for (std::size_t k = 0; k < scratch_floats.size(); ++k) scratch.weights[k].grow(scratch_floats[k]);
  for (const auto& [k, p] : scratch_users) p->weight = scratch.weights[k].data();
  Pass pass{layers,
            shape.batch,
            shape.length,
            h,
            shape.heads,
            rows,
            inner_ld,
            threads,
            x,
            scratch.qkv.grow(rows * 3 * h),
            scratch.query.grow(shape.batch * h),
            scratch.context.grow(rows * h),
            scratch.attended.grow(rows * h),
            scratch.inner.grow(rows * inner_ld),
            first,
            mask_bias,
            first_only,
            std::move(materialised)};
  pass.prepare();

  SpinBarrier barrier;
  FirstError error;
  const auto run = [&](std::int64_t tid, std::int64_t threads) {
    const auto each = [&](std::int64_t tasks, const auto& work) {
      error.guard([&] {
        for (std::int64_t t = tid; t < tasks; t += threads) work(t);
      });
    };
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const bool materialise = !pass.materialised[l].empty();
      const bool columns = pass.column_mode(l);
      // Stage A may follow the previous layer's stage C without a barrier only where each thread
      // projects exactly the rows it wrote there: one projection, a team of `parts` threads.
      const bool own_rows = threads == pass.parts && layers[l].projections.size() == 1 && !columns;
      // Stage M overwrites weights the previous layer's stage C may still read; the first-token
      // queries read rows other threads wrote in that stage C.
      if (l > 0 && (materialise || pass.last_first(l) || !own_rows)) barrier.arrive_and_wait();
      if (materialise) {
        each(pass.materialise_tasks(l), [&](std::int64_t t) { pass.materialise(l, t); });
        barrier.arrive_and_wait();
      }
      if (columns) {
        each(pass.column_projection_tasks(l), [&](std::int64_t t) { pass.column_projections(l, t); });
      } else {
        each(pass.projection_tasks(l), [&](std::int64_t t) { pass.projections(l, t); });
      }
      barrier.arrive_and_wait();
      each(shape.batch * shape.heads, [&](std::int64_t t) { pass.attention(l, t); });
      barrier.arrive_and_wait();
      if (columns) {
        for (int step = 0; step < 5; ++step) {
          if (step > 0) barrier.arrive_and_wait();
          each(pass.column_feed_forward_tasks(l, step), [&](std::int64_t t) { pass.column_feed_forward(l, step, t); });
        }
      } else {
        each(pass.feed_forward_tasks(), [&](std::int64_t t) { pass.feed_forward(l, t); });
      }
    }
  };
  if (threads <= 1) {
    run(0, 1);
  } else {
#pragma omp parallel num_threads(threads)
    {
      barrier.set_parties(omp_get_num_threads());
      run(omp_get_thread_num(), omp_get_num_threads());
    }
  }
  error.rethrow();
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
