// The safetensors format (Hugging Face), read and written without libtorch.
//
// Layout: 8-byte little-endian header length N, N bytes of JSON header, then the data. The header
// maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to
// the data section) and may hold "__metadata__" (string -> string).
// Reading checks everything before trusting it and fails with a DataError naming the file and the
// tensor or key: N larger than the file, header not JSON or not an object, unknown dtype, a shape
// whose element count x dtype size differs from end - begin, offsets past the end of the file,
// overlapping tensors or gaps between them, data section not fully covered, a name given twice,
// a header longer than 100 MB (the reference reader's limit). A truncated file is never a crash.
// Tensors may be stored in any order (the reference Python writer orders by dtype, then name).
// Writing sorts tensors by name, pads the header with spaces to a multiple of 8 bytes (so data
// starts aligned), and writes through a temporary file renamed into place. A tensor whose bytes do
// not match its shape, an empty or repeated name, or a failed write is a DataError naming the file.
// Byte order on disk is little-endian; the conversions below decode bytes explicitly, so they do
// not depend on the host's byte order. Free functions; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace opsbench::models {

enum class DType { kF32, kF16, kBF16, kI64, kI32, kU8 };

const char* dtype_name(DType dtype);  // "F32", "F16", "BF16", "I64", "I32", "U8"
std::size_t dtype_size(DType dtype);

struct StoredTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;  // little-endian, row-major
  std::size_t num_elements() const;  // product of shape (1 for a scalar, shape [])
};

struct SafetensorsFile {
  std::string path;
  std::vector<StoredTensor> tensors;            // in data-offset order
  std::map<std::string, std::string> metadata;  // "__metadata__"
  const StoredTensor* find(const std::string& name) const;
  // DataError naming the file, the tensor and the nearest names present when absent.
  const StoredTensor& at(const std::string& name) const;
};

SafetensorsFile read_safetensors(const std::string& path);
// Returns the number of bytes written (the on-disk model size).
std::size_t write_safetensors(const std::string& path, const std::vector<StoredTensor>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

// Element values of an F32, F16 or BF16 tensor as float (F16 with subnormals, inf and NaN exact).
// DataError naming the tensor for integer dtypes.
std::vector<float> to_float32(const StoredTensor& tensor);
// A float tensor stored as F32, F16 or BF16 (round to nearest even; values beyond the F16 range
// become inf, NaN stays NaN). `values` holds the shape's element count. DataError for integer dtypes.
StoredTensor from_float32(std::string name, std::vector<std::int64_t> shape, const float* values,
                          DType dtype = DType::kF32);
// Single-value conversions used above, exposed for tests and for quantisation code.
float f16_to_float(std::uint16_t bits);
std::uint16_t float_to_f16(float value);
float bf16_to_float(std::uint16_t bits);
std::uint16_t float_to_bf16(float value);

}  // namespace opsbench::models
