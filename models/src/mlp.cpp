#ifdef OPSBENCH_HAVE_TORCH
#include "mlp.h"

#include <cmath>

#include "opsbench/core/error.h"

namespace opsbench::models {

torch::Tensor to_float_tensor(const Matrix& x, const torch::Device& device, const std::string& method,
                              const std::string& what) {
  torch::Tensor t = torch::empty({static_cast<std::int64_t>(x.rows), static_cast<std::int64_t>(x.cols)}, torch::kFloat);
  float* p = t.data_ptr<float>();
  for (std::size_t i = 0; i < x.data.size(); ++i) {
    if (!std::isfinite(x.data[i])) {
      throw DataError(method + ": " + what + " row " + std::to_string(i / x.cols) + ", column " +
                      std::to_string(i % x.cols) + " is not finite (impute first)");
    }
    p[i] = static_cast<float>(x.data[i]);
  }
  return t.to(device);
}

std::vector<std::int64_t> parse_layer_widths(const std::vector<std::string>& items, const std::string& method) {
  std::vector<std::int64_t> widths;
  for (const auto& w : items) {
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(w, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != w.size() || v < 1 || v > (1 << 20)) {
      throw ConfigError(method + ": layers entry '" + w + "' is not a width in [1, 1048576]");
    }
    widths.push_back(v);
  }
  return widths;
}

}  // namespace opsbench::models
#endif  // OPSBENCH_HAVE_TORCH
