// safetensors reader and writer (see safetensors.h). Torch-free: the encoder code converts
// StoredTensor to torch tensors itself, so this file builds and is tested without libtorch.
#include "opsbench/models/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <unistd.h>

#include "opsbench/core/error.h"
#include "opsbench/core/registry.h"

namespace opsbench::models {
namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // the reference reader's limit
constexpr const char* kMetadataKey = "__metadata__";

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw DataError(path, 0, 0, message);
}

std::string tensor_label(const std::string& name) { return "tensor '" + name + "'"; }

bool parse_dtype(const std::string& text, DType& dtype) {
  static const std::pair<const char*, DType> kNames[] = {{"F32", DType::kF32}, {"F16", DType::kF16},
                                                         {"BF16", DType::kBF16}, {"I64", DType::kI64},
                                                         {"I32", DType::kI32}, {"U8", DType::kU8}};
  for (const auto& [name, value] : kNames) {
    if (text == name) {
      dtype = value;
      return true;
    }
  }
  return false;
}

// Element count of a shape, or false when a dimension is negative or the product overflows.
bool element_count(const std::vector<std::int64_t>& shape, std::uint64_t& count) {
  count = 1;
  for (const std::int64_t d : shape) {
    if (d < 0) return false;
    const auto u = static_cast<std::uint64_t>(d);
    if (u != 0 && count > std::numeric_limits<std::uint64_t>::max() / u) return false;
    count *= u;
  }
  return true;
}


std::uint16_t load_u16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t load_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
void store_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
void store_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// One tensor's header entry, checked for form (not yet against the file size).
struct Entry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& path, const std::string& name, const json& value) {
  const std::string where = tensor_label(name);
  if (!value.is_object()) fail(path, where + ": header entry is not a JSON object");
  Entry e;
  e.name = name;
  const auto dtype = value.find("dtype");
  if (dtype == value.end() || !dtype->is_string()) fail(path, where + ": missing or non-string \"dtype\"");
  if (!parse_dtype(dtype->get<std::string>(), e.dtype)) {
    fail(path, where + ": unsupported dtype '" + dtype->get<std::string>() + "' (supported: F32, F16, BF16, I64, I32, U8)");
  }
  const auto shape = value.find("shape");
  if (shape == value.end() || !shape->is_array()) fail(path, where + ": missing or non-array \"shape\"");
  for (const auto& d : *shape) {
    if (!d.is_number_unsigned() || d.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      fail(path, where + ": shape " + shape->dump() + " has an entry that is not a non-negative integer");
    }
    e.shape.push_back(d.get<std::int64_t>());
  }
  const auto offsets = value.find("data_offsets");
  if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned()) {
    fail(path, where + ": \"data_offsets\" must be two non-negative integers [begin, end]");
  }
  e.begin = (*offsets)[0].get<std::uint64_t>();
  e.end = (*offsets)[1].get<std::uint64_t>();
  if (e.end < e.begin) fail(path, where + ": data_offsets " + offsets->dump() + " end before begin");
  std::uint64_t count = 0;
  if (!element_count(e.shape, count) || count > std::numeric_limits<std::uint64_t>::max() / dtype_size(e.dtype)) {
    fail(path, where + ": shape " + shape->dump() + " overflows");
  }
  if (count * dtype_size(e.dtype) != e.end - e.begin) {
    fail(path, where + ": shape " + shape->dump() + " x " + dtype_name(e.dtype) + " is " +
                   std::to_string(count * dtype_size(e.dtype)) + " bytes but data_offsets " + offsets->dump() +
                   " span " + std::to_string(e.end - e.begin));
  }
  return e;
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kI64: return "I64";
    case DType::kI32: return "I32";
    case DType::kU8: return "U8";
  }
  return "?";
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 4;
    case DType::kF16: return 2;
    case DType::kBF16: return 2;
    case DType::kI64: return 8;
    case DType::kI32: return 4;
    case DType::kU8: return 1;
  }
  return 1;
}

std::size_t StoredTensor::num_elements() const {
  std::uint64_t count = 0;
  if (!element_count(shape, count)) throw DataError(tensor_label(name) + ": invalid shape");
  return static_cast<std::size_t>(count);
}

const StoredTensor* SafetensorsFile::find(const std::string& name) const {
  for (const auto& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const StoredTensor& SafetensorsFile::at(const std::string& name) const {
  if (const StoredTensor* t = find(name)) return *t;
  std::vector<std::pair<std::size_t, std::string>> near;
  for (const auto& t : tensors) near.emplace_back(edit_distance(name, t.name), t.name);
  std::sort(near.begin(), near.end());
  std::string message = "no " + tensor_label(name) + " (" + std::to_string(tensors.size()) + " tensors";
  for (std::size_t i = 0; i < near.size() && i < 3; ++i) message += (i ? ", " : "; nearest: ") + near[i].second;
  fail(path, message + ")");
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  if (file_size < 8) fail(path, "file is " + std::to_string(file_size) + " bytes, too short for the 8-byte header length");
  std::uint8_t length_bytes[8];
  in.read(reinterpret_cast<char*>(length_bytes), 8);
  if (!in) fail(path, "cannot read the header length");
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_bytes[i];
  if (header_length > kMaxHeaderBytes) {
    fail(path, "header length " + std::to_string(header_length) + " exceeds the limit of " +
                   std::to_string(kMaxHeaderBytes) + " bytes (not a safetensors file?)");
  }
  if (header_length > file_size - 8) {
    fail(path, "header length " + std::to_string(header_length) + " is past the end of the file (" +
                   std::to_string(file_size) + " bytes; truncated?)");
  }
  std::string header(header_length, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_length));
  if (!in) fail(path, "cannot read the " + std::to_string(header_length) + "-byte header");

  // A repeated tensor name would otherwise be dropped silently by the JSON object.
  std::set<std::string> seen;
  std::string duplicate;
  const json::parser_callback_t detect_duplicates = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key && !seen.insert(parsed.get<std::string>()).second &&
        duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json doc;
  try {
    doc = json::parse(header, detect_duplicates);
  } catch (const json::exception& e) {
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) fail(path, "header is not a JSON object");
  if (!duplicate.empty()) fail(path, "header names '" + duplicate + "' twice");

  SafetensorsFile file;
  file.path = path;
  std::vector<Entry> entries;
  for (const auto& [key, value] : doc.items()) {
    if (key == kMetadataKey) {
      if (!value.is_object()) fail(path, "\"__metadata__\" is not a JSON object");
      for (const auto& [mkey, mvalue] : value.items()) {
        if (!mvalue.is_string()) fail(path, "\"__metadata__\" key '" + mkey + "' is not a string");
        file.metadata[mkey] = mvalue.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, key, value));
  }

  // The tensors must tile the data section exactly: sorted by offset, each starts where the last
  // ended, the last ends at the end of the file. That rules out overlaps, gaps and trailing bytes.
  const std::uint64_t data_start = 8 + header_length;
  const std::uint64_t data_size = file_size - data_start;
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : (a.end != b.end ? a.end < b.end : a.name < b.name);
  });
  std::uint64_t expected = 0;
  std::string previous;
  for (const Entry& e : entries) {
    if (e.end > data_size) {
      fail(path, tensor_label(e.name) + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                     "] past the end of the " + std::to_string(data_size) + "-byte data section (truncated?)");
    }
    if (e.begin < expected) {
      fail(path, tensor_label(e.name) + ": data_offsets begin " + std::to_string(e.begin) + " overlaps " +
                     tensor_label(previous) + ", which ends at " + std::to_string(expected));
    }
    if (e.begin > expected) {
      fail(path, tensor_label(e.name) + ": data_offsets begin " + std::to_string(e.begin) + " leaves a gap after " +
                     (previous.empty() ? std::string("the header") : tensor_label(previous)) + " (ends at " +
                     std::to_string(expected) + ")");
    }
    expected = e.end;
    previous = e.name;
  }
  if (expected != data_size) {
    fail(path, "tensors cover " + std::to_string(expected) + " of the " + std::to_string(data_size) +
                   " data bytes (trailing bytes or a missing tensor)");
  }

  file.tensors.reserve(entries.size());
  for (Entry& e : entries) {
    StoredTensor t;
    t.name = std::move(e.name);
    t.dtype = e.dtype;
    t.shape = std::move(e.shape);
    t.bytes.resize(e.end - e.begin);
    in.seekg(static_cast<std::streamoff>(data_start + e.begin));
    in.read(reinterpret_cast<char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
    if (!in) fail(path, tensor_label(t.name) + ": cannot read its " + std::to_string(t.bytes.size()) + " bytes");
    file.tensors.push_back(std::move(t));
  }
  return file;
}

std::size_t write_safetensors(const std::string& path, const std::vector<StoredTensor>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  std::vector<const StoredTensor*> order;
  for (const auto& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const StoredTensor* a, const StoredTensor* b) { return a->name < b->name; });

  json header = json::object();
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const StoredTensor& t = *order[i];
    if (t.name.empty() || t.name == kMetadataKey) fail(path, "cannot write a tensor named '" + t.name + "'");
    if (i > 0 && order[i - 1]->name == t.name) fail(path, "cannot write " + tensor_label(t.name) + " twice");
    std::uint64_t count = 0;
    if (!element_count(t.shape, count) || count * dtype_size(t.dtype) != t.bytes.size()) {
      fail(path, "cannot write " + tensor_label(t.name) + ": " + std::to_string(t.bytes.size()) +
                     " bytes do not match its shape and dtype " + dtype_name(t.dtype));
    }
    header[t.name] = {{"dtype", dtype_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  std::uint8_t length_bytes[8];
  for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(text.size()) >> (8 * i));
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot create " + temporary + ": " + std::strerror(errno));
    out.write(reinterpret_cast<const char*>(length_bytes), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const StoredTensor* t : order) {
      out.write(reinterpret_cast<const char*>(t->bytes.data()), static_cast<std::streamsize>(t->bytes.size()));
    }
    out.close();
    if (!out) {
      std::remove(temporary.c_str());
      fail(path, "cannot write " + temporary);
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::remove(temporary.c_str());
    fail(path, "cannot rename " + temporary + " into place: " + ec.message());
  }
  return 8 + text.size() + static_cast<std::size_t>(offset);
}

float f16_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu;
  std::uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0x1F) return bits_float(sign | 0x7F800000u | (mantissa << 13));  // inf, NaN (payload kept)
  if (exponent != 0) return bits_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
  if (mantissa == 0) return bits_float(sign);  // signed zero
  // Subnormal: value = mantissa * 2^-24; normalise into a float (all F16 subnormals are float normals).
  int e = -1;
  do {
    ++e;
    mantissa <<= 1;
  } while ((mantissa & 0x400u) == 0);
  return bits_float(sign | (static_cast<std::uint32_t>(112 - e) << 23) | ((mantissa & 0x3FFu) << 13));
}

std::uint16_t float_to_f16(float value) {
  const std::uint32_t x = float_bits(value);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t exponent = (x >> 23) & 0xFFu;
  const std::uint32_t mantissa = x & 0x7FFFFFu;
  if (exponent == 0xFF) {  // inf stays inf; NaN stays a (quiet) NaN with its top payload bits
    return static_cast<std::uint16_t>(sign | 0x7C00u | (mantissa ? 0x200u | (mantissa >> 13) : 0u));
  }
  const int e = static_cast<int>(exponent) - 127 + 15;  // rebiased exponent
  if (e >= 0x1F) return static_cast<std::uint16_t>(sign | 0x7C00u);  // overflow -> inf
  if (e <= 0) {
    // Subnormal or zero in F16: shift the full significand (with the implicit 1) into place and
    // round to nearest even on the bits shifted out.
    if (e < -10) return sign;  // below half the smallest subnormal (ties handled: 2^-25 -> 0)
    const std::uint32_t significand = mantissa | 0x800000u;
    const int shift = 14 - e;
    std::uint32_t half = significand >> shift;
    const std::uint32_t rest = significand & ((1u << shift) - 1);
    const std::uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
    return static_cast<std::uint16_t>(sign | half);  // a carry into bit 10 is the smallest normal, correctly
  }
  std::uint32_t half = (static_cast<std::uint32_t>(e) << 10) | (mantissa >> 13);
  const std::uint32_t rest = mantissa & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // a carry may round up to inf, correctly
  return static_cast<std::uint16_t>(sign | half);
}

float bf16_to_float(std::uint16_t bits) { return bits_float(static_cast<std::uint32_t>(bits) << 16); }

std::uint16_t float_to_bf16(float value) {
  const std::uint32_t x = float_bits(value);
  if ((x & 0x7F800000u) == 0x7F800000u && (x & 0x7FFFFFu) != 0) {
    return static_cast<std::uint16_t>((x >> 16) | 0x40u);  // NaN: keep sign and top payload, force quiet
  }
  const std::uint32_t rounding = 0x7FFFu + ((x >> 16) & 1u);  // round to nearest even
  return static_cast<std::uint16_t>((x + rounding) >> 16);
}

std::vector<float> to_float32(const StoredTensor& tensor) {
  const std::size_t n = tensor.num_elements();
  if (tensor.bytes.size() != n * dtype_size(tensor.dtype)) {
    throw DataError(tensor_label(tensor.name) + ": " + std::to_string(tensor.bytes.size()) +
                    " bytes do not match its shape");
  }
  std::vector<float> out(n);
  const std::uint8_t* p = tensor.bytes.data();
  switch (tensor.dtype) {
    case DType::kF32:
      for (std::size_t i = 0; i < n; ++i) out[i] = bits_float(load_u32(p + 4 * i));
      break;
    case DType::kF16:
      for (std::size_t i = 0; i < n; ++i) out[i] = f16_to_float(load_u16(p + 2 * i));
      break;
    case DType::kBF16:
      for (std::size_t i = 0; i < n; ++i) out[i] = bf16_to_float(load_u16(p + 2 * i));
      break;
    default:
      throw DataError(tensor_label(tensor.name) + ": dtype " + dtype_name(tensor.dtype) + " is not a float type");
  }
  return out;
}

StoredTensor from_float32(std::string name, std::vector<std::int64_t> shape, const float* values, DType dtype) {
  StoredTensor t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.shape = std::move(shape);
  const std::size_t n = t.num_elements();
  t.bytes.resize(n * dtype_size(dtype));
  std::uint8_t* p = t.bytes.data();
  switch (dtype) {
    case DType::kF32:
      for (std::size_t i = 0; i < n; ++i) store_u32(p + 4 * i, float_bits(values[i]));
      break;
    case DType::kF16:
      for (std::size_t i = 0; i < n; ++i) store_u16(p + 2 * i, float_to_f16(values[i]));
      break;
    case DType::kBF16:
      for (std::size_t i = 0; i < n; ++i) store_u16(p + 2 * i, float_to_bf16(values[i]));
      break;
    default:
      throw DataError(tensor_label(t.name) + ": cannot store floats as " + dtype_name(dtype));
  }
  return t;
}

}  // namespace opsbench::models
