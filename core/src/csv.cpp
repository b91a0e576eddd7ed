// CsvReader on libcsv + zlib. See csv.h for the contract.
//
// Line tracking: libcsv does not count lines, so the reader splits the (decompressed) byte stream
// into physical lines itself and feeds libcsv one line at a time. Whenever the parser is back in its
// "row not begun" state after a line, the next non-blank line starts a new record; that is how a
// record spanning several lines (quoted newlines) still reports the line it starts on.
#include "opsbench/core/csv.h"

#include <csv.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <deque>
#include <utility>

#include "opsbench/core/error.h"

namespace opsbench {
namespace {

constexpr std::size_t kChunkBytes = 1 << 16;
constexpr int kRowNotBegun = 0;  // libcsv's pstate value between records
constexpr unsigned char kCsvOptions = CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL;

struct Record {
  std::vector<std::string> fields;
  std::int64_t line = 0;
};

}  // namespace

struct CsvReader::Impl {
  std::string path;
  CsvOptions options;
  gzFile file = nullptr;
  csv_parser parser{};
  bool parser_ready = false;

  // Raw input buffer and the current physical line.
  std::vector<char> chunk = std::vector<char>(kChunkBytes);
  std::size_t chunk_pos = 0;
  std::size_t chunk_len = 0;
  bool input_done = false;
  std::int64_t physical_line = 0;  // lines consumed so far
  bool first_line = true;
  std::string line_buffer;  // reused so that reading a line rarely allocates

  // Record being assembled by the libcsv callbacks, and finished records.
  // Field strings are recycled between records (assign() into existing strings, vectors handed back
  // by next() kept as spares), so steady-state reading allocates almost nothing per field.
  std::vector<std::string> current;
  std::size_t current_n = 0;
  std::vector<std::vector<std::string>> spares;
  std::int64_t record_start = 0;
  bool in_record = false;
  std::deque<Record> ready;
  bool finished = false;

  std::vector<std::string> header;
  std::size_t expected_fields = 0;  // 0 = not yet known
  std::int64_t last_line = 0;

  // Cleans up here rather than in ~CsvReader so that a constructor that throws leaks nothing.
  ~Impl() {
    if (parser_ready) csv_free(&parser);
    if (file != nullptr) gzclose_r(file);
  }

  static void on_field(void* data, std::size_t len, void* self) {
    auto* impl = static_cast<Impl*>(self);
    if (impl->current_n < impl->current.size()) {
      impl->current[impl->current_n].assign(static_cast<const char*>(data), len);
    } else {
      impl->current.emplace_back(static_cast<const char*>(data), len);
    }
    ++impl->current_n;
  }
  static void on_record(int /*terminator*/, void* self) {
    auto* impl = static_cast<Impl*>(self);
    Record record;
    impl->current.resize(impl->current_n);
    record.fields.swap(impl->current);
    record.line = impl->record_start;
    impl->current_n = 0;
    if (!impl->spares.empty()) {
      impl->current.swap(impl->spares.back());
      impl->spares.pop_back();
    }
    impl->ready.push_back(std::move(record));
  }

  [[noreturn]] void fail(std::int64_t line, std::int64_t column, const std::string& message) const {
    throw DataError(path, line, column, message);
  }

  // Reads the next block of decompressed bytes; false at end of input.
  bool refill() {
    if (input_done) return false;
    int n = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      fail(physical_line + 1, 0, std::string("truncated or corrupt gzip stream (") + message + ")");
    }
    if (n == 0) {
      input_done = true;
      // zlib reports a gzip stream cut short only through the error state at end of input.
      int code = 0;
      gzerror(file, &code);
      if (code != Z_OK && code != Z_STREAM_END) {
        fail(physical_line + 1, 0, "truncated or corrupt gzip stream");
      }
      return false;
    }
    chunk_pos = 0;
    chunk_len = static_cast<std::size_t>(n);
    return true;
  }

  // Reads one physical line (without its '\n' and a trailing '\r'); false at end of input.
  bool read_line(std::string& line) {
    line.clear();
    bool any = false;
    for (;;) {
      if (chunk_pos == chunk_len && !refill()) break;
      any = true;
      const char* begin = chunk.data() + chunk_pos;
      const void* nl = std::memchr(begin, '\n', chunk_len - chunk_pos);
      if (nl != nullptr) {
        std::size_t n = static_cast<const char*>(nl) - begin;
        line.append(begin, n);
        chunk_pos += n + 1;
        break;
      }
      line.append(begin, chunk_len - chunk_pos);
      chunk_pos = chunk_len;
    }
    if (!any) return false;
    ++physical_line;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (first_line) {
      first_line = false;
      if (line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    }
    return true;
  }

  // Feeds lines to libcsv until at least one record is ready or the input ends.
  void pump() {
    std::string& line = line_buffer;
    while (ready.empty() && !finished) {
      if (!read_line(line)) {
        finish();
        return;
      }
      if (!in_record) {
        // Blank lines and comment lines between records carry no record.
        if (line.empty()) continue;
        if (options.comment != 0 && line[0] == options.comment) continue;
        record_start = physical_line;
        in_record = true;
      }
      line.push_back('\n');
      std::size_t used = csv_parse(&parser, line.data(), line.size(), on_field, on_record, this);
      if (used != line.size()) {
        fail(record_start, static_cast<std::int64_t>(current_n) + 1,
             std::string("malformed CSV (") + csv_strerror(csv_error(&parser)) +
                 "): a quote inside an unquoted field or text after a closing quote");
      }
      if (parser.pstate == kRowNotBegun) in_record = false;
    }
  }

  void finish() {
    finished = true;
    int rc = csv_fini(&parser, on_field, on_record, this);
    if (rc != 0) {
      fail(record_start, static_cast<std::int64_t>(current_n) + 1,
           "unterminated quoted field (the record starting here never closes its quote)");
    }
    if (file != nullptr) {
      int rc_close = gzclose_r(file);
      file = nullptr;
      if (rc_close != Z_OK) fail(physical_line, 0, "truncated or corrupt gzip stream");
    }
  }

  bool next_raw(Record& record) {
    if (ready.empty()) pump();
    if (ready.empty()) return false;
    record = std::move(ready.front());
    ready.pop_front();
    return true;
  }

  void check_count(const Record& record) const {
    if (record.fields.size() == expected_fields) return;
    std::int64_t column = static_cast<std::int64_t>(std::min(record.fields.size(), expected_fields)) + 1;
    fail(record.line, column,
         "field count: expected " + std::to_string(expected_fields) + " fields" +
             (options.has_header ? " (as in the header)" : " (as in the first record)") + ", found " +
             std::to_string(record.fields.size()));
  }
};

CsvReader::CsvReader(const std::string& path, CsvOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->options = options;
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    throw DataError(path, 0, 0, "cannot open file: it is a directory");
  }
  impl_->file = gzopen(path.c_str(), "rb");
  if (impl_->file == nullptr) {
    throw DataError(path, 0, 0, std::string("cannot open file: ") + std::strerror(errno));
  }
  gzbuffer(impl_->file, 1 << 17);
  if (csv_init(&impl_->parser, kCsvOptions) != 0) {
    throw DataError(path, 0, 0, "cannot initialise the CSV parser");
  }
  impl_->parser_ready = true;
  csv_set_delim(&impl_->parser, static_cast<unsigned char>(options.delimiter));
  // RFC 4180: spaces are part of a field. libcsv trims unquoted fields by default, which would
  // alter data (Flow-Bench sentences end with a space); numbers are trimmed by parse_double instead.
  csv_set_space_func(&impl_->parser, [](unsigned char) { return 0; });
  if (options.has_header) {
    Record record;
    if (!impl_->next_raw(record)) throw DataError(path, 0, 0, "empty file (a header was expected)");
    impl_->header = std::move(record.fields);
    impl_->expected_fields = impl_->header.size();
    impl_->last_line = record.line;
  }
}

CsvReader::~CsvReader() = default;

const std::string& CsvReader::path() const { return impl_->path; }
const std::vector<std::string>& CsvReader::header() const { return impl_->header; }
std::int64_t CsvReader::line() const { return impl_->last_line; }

bool CsvReader::next(std::vector<std::string>& fields) {
  Record record;
  if (!impl_->next_raw(record)) return false;
  if (impl_->expected_fields == 0) impl_->expected_fields = record.fields.size();
  impl_->check_count(record);
  impl_->last_line = record.line;
  fields.swap(record.fields);
  // The caller's previous vector (now in record) becomes a spare for the parser.
  if (impl_->spares.size() < 4) impl_->spares.push_back(std::move(record.fields));
  return true;
}

bool is_missing_token(const std::string& field) {
  auto equals = [&field](const char* token) {
    std::size_t n = std::strlen(token);
    if (field.size() != n) return false;
    for (std::size_t i = 0; i < n; ++i) {
      if (std::tolower(static_cast<unsigned char>(field[i])) != token[i]) return false;
    }
    return true;
  };
  return field.empty() || equals("nan") || equals("na") || equals("null");
}

bool parse_double(const std::string& field, double& out) {
  const char* begin = field.data();
  const char* end = begin + field.size();
  while (begin < end && (*begin == ' ' || *begin == '\t')) ++begin;
  while (end > begin && (end[-1] == ' ' || end[-1] == '\t')) --end;
  if (begin < end && *begin == '+') ++begin;
  if (begin == end) return false;
  double value = 0.0;
  auto result = std::from_chars(begin, end, value);
  if (result.ec != std::errc() || result.ptr != end) {
    // from_chars reports out-of-range magnitudes as an error; strtod saturates them to +-inf or 0,
    // which is what a reader of measured values wants.
    if (result.ec != std::errc::result_out_of_range || result.ptr != end) return false;
    std::string copy(begin, end);
    value = std::strtod(copy.c_str(), nullptr);
  }
  if (value != value) return false;  // "nan" is a missing token, not a number
  out = value;
  return true;
}

FileDigest digest_file(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw DataError(path, 0, 0, std::string("cannot open file: ") + std::strerror(errno));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    std::fclose(file);
    throw DataError(path, 0, 0, "cannot initialise sha256");
  }
  FileDigest digest;
  std::vector<unsigned char> buffer(1 << 20);
  bool ok = true;
  for (;;) {
    std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file);
    if (n > 0) {
      ok = ok && EVP_DigestUpdate(ctx, buffer.data(), n) == 1;
      digest.bytes += n;
    }
    if (n < buffer.size()) {
      if (std::ferror(file)) ok = false;
      break;
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) == 1;
  EVP_MD_CTX_free(ctx);
  std::fclose(file);
  if (!ok) throw DataError(path, 0, 0, "read error while hashing the file");
  static const char kHex[] = "0123456789abcdef";
  digest.sha256.reserve(md_len * 2);
  for (unsigned int i = 0; i < md_len; ++i) {
    digest.sha256.push_back(kHex[md[i] >> 4]);
    digest.sha256.push_back(kHex[md[i] & 0xF]);
  }
  return digest;
}

std::string sha256_hex(const void* data, std::size_t size) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(data, size, md, &md_len, EVP_sha256(), nullptr) != 1) throw ModelError("sha256 failed");
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(md_len * 2);
  for (unsigned int i = 0; i < md_len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xF]);
  }
  return out;
}

}  // namespace opsbench
