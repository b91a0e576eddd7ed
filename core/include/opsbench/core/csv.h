// Streaming CSV reader on libcsv (RFC 4180: quoted fields, doubled quotes, embedded newlines) with
// transparent gzip through zlib: a file that starts with the gzip magic is decompressed, any other
// file is read as is. Records are read one at a time; memory stays bounded by the longest record.
//
// Errors are DataErrors naming the file, the 1-based line where the record starts and the 1-based
// field (column): a record whose field count differs from the header's, an unterminated quote at
// end of file, a truncated or corrupt gzip stream, an unreadable file, an empty file when a header
// is expected.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace opsbench {

struct CsvOptions {
  char delimiter = ',';
  bool has_header = true;
  // Lines starting with this character (outside quotes, at a record start) are skipped; 0 = none.
  char comment = 0;
};

class CsvReader {
 public:
  CsvReader(const std::string& path, CsvOptions options = {});
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  const std::string& path() const;
  // Header fields (empty when has_header is false).
  const std::vector<std::string>& header() const;
  // Reads the next record into `fields`; false at end of file. Checks the field count against the
  // header (or against the first record when there is no header).
  bool next(std::vector<std::string>& fields);
  // 1-based line where the record last returned by next() starts.
  std::int64_t line() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True for "", "nan", "NaN", "NA", "null" (case-insensitive): the spellings read as missing.
bool is_missing_token(const std::string& field);

// Parses a whole field as a finite or infinite double; false when it is not a number.
bool parse_double(const std::string& field, double& out);

// sha256 (lowercase hex) and size of a file's bytes; DataError when unreadable.
struct FileDigest {
  std::string sha256;
  std::uint64_t bytes = 0;
};
FileDigest digest_file(const std::string& path);
// sha256 (lowercase hex) of bytes in memory (vocabularies and weights built in a cell).
std::string sha256_hex(const void* data, std::size_t size);

}  // namespace opsbench
