// run_encoder_pass (see encoder_pass.h).
#ifdef OPSBENCH_HAVE_TORCH
#include "encoder_pass.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
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

void apply_product(const PassProduct& p, const float* x, std::int64_t rows, std::int64_t ldx, float* y,
                   std::int64_t ldy, Epilogue e) {
  if (p.packed != nullptr) {
    p.packed->apply(x, rows, ldx, y, ldy, e);
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

  // Stage M of layer l: task t writes part t % parts of materialised product t / parts.
  void materialise(std::size_t l, std::int64_t task) const {
    const PassProduct& p = *materialised[l][static_cast<std::size_t>(task / parts)];
    const Chunk c = chunk(task % parts, parts, p.out);
    if (c.rows > 0) p.writer->write(c.begin, c.begin + c.rows, p.weight);
  }
  std::int64_t materialise_tasks(std::size_t l) const {
    return static_cast<std::int64_t>(materialised[l].size()) * parts;
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

// The products of a layer in a fixed order: their index is the scratch buffer a materialised one uses.
std::vector<PassProduct*> products_of(PackedEncoderLayer& L) {
  std::vector<PassProduct*> all;
  for (auto& p : L.projections) all.push_back(&p.product);
  for (PassProduct* p : {&L.first_query, &L.attention_output, &L.intermediate, &L.output}) all.push_back(p);
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

void run_encoder_pass(std::vector<PackedEncoderLayer>& layers, const EncoderPassShape& shape, float* x,
                      const float* mask_bias, bool first_only, float* first, EncoderPassScratch& scratch) {
  if (layers.empty()) return;
  const std::int64_t rows = shape.batch * shape.length, h = shape.hidden;
  if (rows <= 0 || h <= 0 || shape.heads <= 0 || h % shape.heads != 0) {
    throw ModelError("encoder pass: bad shape (batch " + std::to_string(shape.batch) + ", length " +
                     std::to_string(shape.length) + ", hidden " + std::to_string(h) + ", heads " +
                     std::to_string(shape.heads) + ")");
  }
  const auto grow = [](std::vector<float>& v, std::int64_t n) {
    if (static_cast<std::int64_t>(v.size()) < n) v.resize(static_cast<std::size_t>(n));
    return v.data();
  };
  // Materialised weights: position k of every layer shares scratch buffer k, sized for the largest.
  std::int64_t inner_ld = 1;
  std::vector<std::vector<PassProduct*>> materialised(layers.size());
  for (std::size_t l = 0; l < layers.size(); ++l) {
    inner_ld = std::max(inner_ld, layers[l].intermediate.out_features());
    const std::vector<PassProduct*> all = products_of(layers[l]);
    if (scratch.weights.size() < all.size()) scratch.weights.resize(all.size());
    for (std::size_t k = 0; k < all.size(); ++k) {
      if (all[k]->packed == nullptr && all[k]->writer != nullptr) {
        all[k]->weight = grow(scratch.weights[k], all[k]->out * all[k]->in);
        materialised[l].push_back(all[k]);
      }
    }
  }
  // One part of the row-wise stages per thread; the team may come out smaller (then a thread takes
  // several parts), never larger.
  const std::int64_t most_tasks = std::max(rows, shape.batch * shape.heads);
  const int threads =
      omp_in_parallel() ? 1 : static_cast<int>(std::min<std::int64_t>(omp_get_max_threads(), most_tasks));
  Pass pass{layers,
            shape.batch,
            shape.length,
            h,
            shape.heads,
            rows,
            inner_ld,
            threads,
            x,
            grow(scratch.qkv, rows * 3 * h),
            grow(scratch.query, shape.batch * h),
            grow(scratch.context, rows * h),
            grow(scratch.attended, rows * h),
            grow(scratch.inner, rows * inner_ld),
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
      // Stage A may follow the previous layer's stage C without a barrier only where each thread
      // projects exactly the rows it wrote there: one projection, a team of `parts` threads.
      const bool own_rows = threads == pass.parts && layers[l].projections.size() == 1;
      // Stage M overwrites weights the previous layer's stage C may still read; the first-token
      // queries read rows other threads wrote in that stage C.
      if (l > 0 && (materialise || pass.last_first(l) || !own_rows)) barrier.arrive_and_wait();
      if (materialise) {
        each(pass.materialise_tasks(l), [&](std::int64_t t) { pass.materialise(l, t); });
        barrier.arrive_and_wait();
      }
      each(pass.projection_tasks(l), [&](std::int64_t t) { pass.projections(l, t); });
      barrier.arrive_and_wait();
      each(shape.batch * shape.heads, [&](std::int64_t t) { pass.attention(l, t); });
      barrier.arrive_and_wait();
      each(pass.feed_forward_tasks(), [&](std::int64_t t) { pass.feed_forward(l, t); });
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
