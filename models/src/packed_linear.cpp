// PackedLinear on oneDNN's matmul primitive (see packed_linear.h).

#ifdef OPSBENCH_HAVE_TORCH  // oneDNN is linked with libtorch (CMakeLists.txt)
#include "packed_linear.h"

#include <omp.h>

#include <dnnl.hpp>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "onednn_engine.h"
#include "opsbench/core/error.h"

namespace opsbench::models {

namespace {

using dnnl::memory;
using Dims = memory::dims;

[[noreturn]] void rethrow(const dnnl::error& e, const char* what) {
  throw ModelError(std::string("oneDNN ") + what + " failed: " + e.what() + " (status " + std::to_string(e.status) +
                   ")");
}

}  // namespace

struct PackedLinear::Impl {
  struct Packed {
    memory::desc desc;
    memory weights;
  };
  struct Kernel {
    dnnl::matmul primitive;
    memory::desc scratchpad;
    std::size_t packed = 0;  // index into `packed`
  };
  using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t, bool, int>;

  std::int64_t out = 0, in = 0;
  std::vector<float> plain_weight;  // [out, in] until the first layout is packed
  std::vector<float> bias;          // empty when none
  std::vector<Packed> packed;
  std::map<Key, Kernel> kernels;

  static Key key_of(std::int64_t rows, std::int64_t ldx, std::int64_t ldy, Epilogue e) {
    return Key{rows, ldx, ldy, e.accumulate, static_cast<int>(e.activation)};
  }

  const Kernel& kernel(std::int64_t rows, std::int64_t ldx, std::int64_t ldy, Epilogue e) {
    const Key key = key_of(rows, ldx, ldy, e);
    auto it = kernels.find(key);
    if (it != kernels.end()) return it->second;
    const memory::desc src({rows, in}, memory::data_type::f32, Dims{ldx, 1});
    const memory::desc weights_any({in, out}, memory::data_type::f32, memory::format_tag::any);
    const memory::desc bias_md =
        bias.empty() ? memory::desc() : memory::desc({1, out}, memory::data_type::f32, memory::format_tag::ab);
    const memory::desc dst({rows, out}, memory::data_type::f32, Dims{ldy, 1});
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, weights_any, bias_md, dst), onednn_matmul_attr(e),
                                          onednn_cpu_engine());
    Kernel k{dnnl::matmul(pd), pd.scratchpad_desc(), 0};
    k.packed = pack_for(pd.weights_desc());
    return kernels.emplace(key, std::move(k)).first->second;
  }

  // The index of the packed weight in `layout`, reordering the plain weight on first use.
  std::size_t pack_for(const memory::desc& layout) {
    for (std::size_t i = 0; i < packed.size(); ++i) {
      if (packed[i].desc == layout) return i;
    }
    // The first layout comes from the plain weight ([out, in] row-major is the matmul weight [in, out]
    // in column-major, "ba"), which is then dropped; later layouts are reordered from the first.
    memory source = packed.empty() ? memory(memory::desc({in, out}, memory::data_type::f32, memory::format_tag::ba),
                                            onednn_cpu_engine(), plain_weight.data())
                                   : packed.front().weights;
    memory target(layout, onednn_cpu_engine());
    dnnl::stream& stream = onednn_thread_stream();
    dnnl::reorder(source, target).execute(stream, source, target);
    stream.wait();
    packed.push_back({layout, target});
    std::vector<float>().swap(plain_weight);
    return packed.size() - 1;
  }
};

PackedLinear::PackedLinear(const float* weight, const float* bias, std::int64_t out, std::int64_t in)
    : impl_(std::make_unique<Impl>()) {
  if (out <= 0 || in <= 0)
    throw ModelError("PackedLinear: empty weight [" + std::to_string(out) + ", " + std::to_string(in) + "]");
  impl_->out = out;
  impl_->in = in;
  impl_->plain_weight.assign(weight, weight + out * in);
  if (bias != nullptr) impl_->bias.assign(bias, bias + out);
}

PackedLinear::~PackedLinear() = default;

std::int64_t PackedLinear::in_features() const { return impl_->in; }
std::int64_t PackedLinear::out_features() const { return impl_->out; }

std::size_t PackedLinear::packed_bytes() const {
  std::size_t bytes = 0;
  for (const auto& p : impl_->packed) bytes += p.desc.get_size();
  return bytes;
}

void PackedLinear::prepare(std::int64_t rows, std::int64_t ldx, std::int64_t ldy, Epilogue e) {
  if (rows == 0) return;
  if (rows < 0 || ldx < impl_->in || ldy < impl_->out) {
    throw ModelError("PackedLinear: bad shape (rows " + std::to_string(rows) + ", ldx " + std::to_string(ldx) +
                     ", ldy " + std::to_string(ldy) + " for [" + std::to_string(impl_->out) + ", " +
                     std::to_string(impl_->in) + "])");
  }
  try {
    (void)impl_->kernel(rows, ldx, ldy, e);
  } catch (const dnnl::error& err) {
    rethrow(err, "matmul");
  }
}

void PackedLinear::apply(const float* x, std::int64_t rows, std::int64_t ldx, float* y, std::int64_t ldy, Epilogue e) {
  if (rows == 0) return;
  const Impl::Key key = Impl::key_of(rows, ldx, ldy, e);
  auto found = impl_->kernels.find(key);
  if (found == impl_->kernels.end()) {
    if (omp_in_parallel()) {
      throw ModelError("PackedLinear: shape (rows " + std::to_string(rows) + ", ldx " + std::to_string(ldx) + ", ldy " +
                       std::to_string(ldy) + ") was not prepared before the parallel region");
    }
    prepare(rows, ldx, ldy, e);
    found = impl_->kernels.find(key);
  }
  const Impl::Kernel& k = found->second;
  try {
    const memory::desc src({rows, impl_->in}, memory::data_type::f32, Dims{ldx, 1});
    const memory::desc dst({rows, impl_->out}, memory::data_type::f32, Dims{ldy, 1});
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(src, onednn_cpu_engine(), const_cast<float*>(x))},
                                         {DNNL_ARG_WEIGHTS, impl_->packed[k.packed].weights},
                                         {DNNL_ARG_DST, memory(dst, onednn_cpu_engine(), y)}};
    if (!impl_->bias.empty()) {
      const memory::desc bias_md({1, impl_->out}, memory::data_type::f32, memory::format_tag::ab);
      args.emplace(DNNL_ARG_BIAS, memory(bias_md, onednn_cpu_engine(), impl_->bias.data()));
    }
    onednn_execute(k.primitive, k.scratchpad, args);
  } catch (const dnnl::error& err) {
    rethrow(err, "matmul");
  }
}

void linear_unpacked(const float* x, std::int64_t rows, std::int64_t ldx, const float* weight, const float* bias,
                     std::int64_t out, std::int64_t in, float* y, std::int64_t ldy, PackedLinear::Epilogue e) {
  if (rows == 0) return;
  if (rows < 0 || out <= 0 || in <= 0 || ldx < in || ldy < out) {
    throw ModelError("linear_unpacked: bad shape (rows " + std::to_string(rows) + ", ldx " + std::to_string(ldx) +
                     ", ldy " + std::to_string(ldy) + " for [" + std::to_string(out) + ", " + std::to_string(in) +
                     "])");
  }
  using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, bool, bool, int>;
  thread_local std::map<Key, std::pair<dnnl::matmul, memory::desc>> kernels;  // primitive, scratchpad
  const memory::desc src({rows, in}, memory::data_type::f32, Dims{ldx, 1});
  const memory::desc weights({in, out}, memory::data_type::f32, memory::format_tag::ba);
  const memory::desc bias_md({1, out}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc dst({rows, out}, memory::data_type::f32, Dims{ldy, 1});
  try {
    const Key key{rows, ldx, ldy, out, in, bias != nullptr, e.accumulate, static_cast<int>(e.activation)};
    auto it = kernels.find(key);
    if (it == kernels.end()) {
      const dnnl::matmul::primitive_desc pd(
          dnnl::matmul::desc(src, weights, bias != nullptr ? bias_md : memory::desc(), dst), onednn_matmul_attr(e),
          onednn_cpu_engine());
      it = kernels.emplace(key, std::make_pair(dnnl::matmul(pd), pd.scratchpad_desc())).first;
    }
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(src, onednn_cpu_engine(), const_cast<float*>(x))},
        {DNNL_ARG_WEIGHTS, memory(weights, onednn_cpu_engine(), const_cast<float*>(weight))},
        {DNNL_ARG_DST, memory(dst, onednn_cpu_engine(), y)}};
    if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, memory(bias_md, onednn_cpu_engine(), const_cast<float*>(bias)));
    onednn_execute(it->second.first, it->second.second, args);
  } catch (const dnnl::error& err) {
    rethrow(err, "matmul (unpacked weight)");
  }
}

void add_product(const float* x, std::int64_t rows, std::int64_t k, const float* w, std::int64_t n, float alpha,
                 float* y, std::int64_t ldy, std::int64_t ldw) {
  if (rows == 0) return;
  if (ldw == 0) ldw = n;
  if (rows < 0 || k <= 0 || n <= 0 || ldy < n || ldw < n) {
    throw ModelError("add_product: bad shape (rows " + std::to_string(rows) + ", k " + std::to_string(k) + ", n " +
                     std::to_string(n) + ", ldy " + std::to_string(ldy) + ", ldw " + std::to_string(ldw) + ")");
  }
  using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, float>;
  thread_local std::map<Key, std::pair<dnnl::matmul, memory::desc>> kernels;
  const memory::desc src({rows, k}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc weights({k, n}, memory::data_type::f32, Dims{ldw, 1});
  const memory::desc dst({rows, n}, memory::data_type::f32, Dims{ldy, 1});
  try {
    const Key key{rows, k, n, ldy, ldw, alpha};
    auto it = kernels.find(key);
    if (it == kernels.end()) {
      dnnl::post_ops ops;
      ops.append_sum(1.f);
      dnnl::primitive_attr attr;
      attr.set_output_scales(0, {alpha});  // applied to the product, before the sum post-op
      attr.set_post_ops(ops);
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, weights, dst), attr, onednn_cpu_engine());
      it = kernels.emplace(key, std::make_pair(dnnl::matmul(pd), pd.scratchpad_desc())).first;
    }
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(src, onednn_cpu_engine(), const_cast<float*>(x))},
        {DNNL_ARG_WEIGHTS, memory(weights, onednn_cpu_engine(), const_cast<float*>(w))},
        {DNNL_ARG_DST, memory(dst, onednn_cpu_engine(), y)}};
    onednn_execute(it->second.first, it->second.second, args);
  } catch (const dnnl::error& err) {
    rethrow(err, "matmul (added product)");
  }
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
