// A float32 linear map whose weight is reordered once into oneDNN's blocked layout, for inference
// on the CPU (private to models/; used by the BERT encoder's no-autograd path, bert.cpp).
//
// Why: at::addmm hands OpenBLAS the weight in its plain layout, and OpenBLAS packs it into panels
// on every call: 19% of a BERT-base batch-1 forward on one thread here (perf, sgemm_incopy).
// Packing once and running oneDNN's matmul (brgemm kernels, chosen for the CPU at run time) on the
// packed copy removes that work: 1.2-1.3x per product at 128 rows, 1.1x at 1,024 rows (measured
// with the Debian libdnnl 2.6 that libtorch itself uses; numbers in docs/encoders.md).
//
// Contract:
//   y[rows, out] = act(x[rows, in] W^T + bias [+ y])  with W [out, in] row-major as given.
// Inputs and outputs are row-major with a row stride (ldx, ldy >= the row length), float32, on the
// host. The constructor copies the weight and the bias: later changes to the caller's arrays are
// not seen (rebuild the object); from the first call on, only the packed copy of the weight is kept. Results differ from OpenBLAS by float rounding only
// (another summation order); for the same shapes, thread count and CPU they are reproducible.
// Threads: called outside a parallel region, oneDNN's OpenMP threads (at::set_num_threads /
// OMP_NUM_THREADS); inside an OpenMP region, the calling thread alone (the encoder pass splits
// rows between threads itself, encoder_pass.h).
// Thread-safety: prepare() (and apply() on a shape not prepared yet) changes the object; apply()
// on prepared shapes may run on several threads at once (each uses its own oneDNN stream and
// scratchpad). apply() inside a parallel region refuses a shape that was not prepared.
// Errors from oneDNN are rethrown as opsbench::ModelError.
#pragma once

#ifdef OPSBENCH_HAVE_TORCH  // oneDNN is linked with libtorch (CMakeLists.txt)

#include <cstdint>
#include <memory>

namespace opsbench::models {

class PackedLinear {
 public:
  enum class Activation { kNone, kGeluErf, kGeluTanh, kRelu };
  struct Epilogue {
    bool accumulate = false;  // add the previous contents of y (a residual) before the activation
    Activation activation = Activation::kNone;
  };

  // weight [out, in] row-major; bias [out] or nullptr.
  PackedLinear(const float* weight, const float* bias, std::int64_t out, std::int64_t in);
  ~PackedLinear();
  PackedLinear(const PackedLinear&) = delete;
  PackedLinear& operator=(const PackedLinear&) = delete;

  std::int64_t in_features() const;
  std::int64_t out_features() const;

  // Makes the kernel for (rows, ldx, ldy, epilogue) and the packed weight it reads ready.
  void prepare(std::int64_t rows, std::int64_t ldx, std::int64_t ldy, Epilogue epilogue);

  void apply(const float* x, std::int64_t rows, std::int64_t ldx, float* y, std::int64_t ldy, Epilogue epilogue);

  // Bytes held by the packed weight copies (one per layout the kernels asked for; usually one).
  std::size_t packed_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// y[rows, out] = x[rows, in] W^T + bias through oneDNN with W [out, in] row-major read in place (no
// packed copy): for weights that exist for one call only, such as a dequantised NF4 weight. Same
// layout rules as PackedLinear::apply; bias may be nullptr. Primitives are cached per shape and
// thread. Measured here at 128 rows: within 4% of the packed product, 10-15% faster than OpenBLAS.
// The epilogue as in PackedLinear::apply. Safe on several threads at once (primitives are per thread).
void linear_unpacked(const float* x, std::int64_t rows, std::int64_t ldx, const float* weight, const float* bias,
                     std::int64_t out, std::int64_t in, float* y, std::int64_t ldy,
                     PackedLinear::Epilogue epilogue = {});

// y[rows, n] += alpha * x[rows, k] w[k, n], all row-major (x row stride k, w row stride ldw >= n,
// or n when 0; y row stride ldy >= n), through oneDNN: the LoRA update B A written into a weight
// (lora.cpp). Safe on several threads at once.
void add_product(const float* x, std::int64_t rows, std::int64_t k, const float* w, std::int64_t n, float alpha,
                 float* y, std::int64_t ldy, std::int64_t ldw = 0);

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
