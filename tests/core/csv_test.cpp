// CsvReader: RFC 4180 records, line tracking, gzip, and every malformed input it must reject.
#include "opsbench/core/csv.h"

#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "opsbench/core/error.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using opsbench::CsvOptions;
using opsbench::CsvReader;
using opsbench::DataError;

namespace {

using opsbench::testing::TempDir;

std::vector<std::vector<std::string>> read_all(const std::string& file, CsvOptions options = {},
                                               std::vector<std::int64_t>* lines = nullptr) {
  CsvReader reader(file, options);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    rows.push_back(fields);
    if (lines != nullptr) lines->push_back(reader.line());
  }
  return rows;
}

// Runs `body`, expecting a DataError, and returns it.
template <typename F>
DataError expect_data_error(F body) {
  try {
    body();
  } catch (const DataError& e) {
    return e;
  }
  FAIL("expected a DataError");
  return DataError("unreachable");
}

std::string many_rows(int n) {
  std::string text = "id,value,name\n";
  for (int i = 0; i < n; ++i)
    text += std::to_string(i) + "," + std::to_string(i * 0.5) + ",row" + std::to_string(i) + "\n";
  return text;
}

}  // namespace

TEST_CASE("csv reads header and records with line numbers", "[core][csv]") {
  TempDir dir;
  const auto file = dir.write("a.csv", "x,y,z\n1,2,3\n\n4,5,6\n");
  CsvReader reader(file);
  CHECK(reader.header() == std::vector<std::string>{"x", "y", "z"});
  std::vector<std::string> fields;
  REQUIRE(reader.next(fields));
  CHECK(fields == std::vector<std::string>{"1", "2", "3"});
  CHECK(reader.line() == 2);
  REQUIRE(reader.next(fields));
  CHECK(fields == std::vector<std::string>{"4", "5", "6"});
  CHECK(reader.line() == 4);  // the blank line 3 is skipped but counted
  CHECK_FALSE(reader.next(fields));
  CHECK(reader.path() == file);
}

TEST_CASE("csv quoted fields: embedded newlines, doubled quotes, delimiters", "[core][csv]") {
  TempDir dir;
  const auto file = dir.write("q.csv",
                              "a,b\n"
                              "\"multi\nline\",\"say \"\"hi\"\"\"\n"
                              "\"x,y\",\"\"\n"
                              "plain,last\n");
  std::vector<std::int64_t> lines;
  auto rows = read_all(file, {}, &lines);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0][0] == "multi\nline");
  CHECK(rows[0][1] == "say \"hi\"");
  CHECK(rows[1][0] == "x,y");
  CHECK(rows[1][1].empty());
  CHECK(rows[2] == std::vector<std::string>{"plain", "last"});
  // The first record spans lines 2-3, so the next ones start on lines 4 and 5.
  CHECK(lines == std::vector<std::int64_t>{2, 4, 5});
}

TEST_CASE("csv strips a UTF-8 BOM and CRLF line ends, handles a missing final newline", "[core][csv]") {
  TempDir dir;
  const auto file = dir.write("bom.csv", "\xEF\xBB\xBFid,v\r\n1,a\r\n2,b");
  CsvReader reader(file);
  CHECK(reader.header() == std::vector<std::string>{"id", "v"});
  auto rows = read_all(file);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == std::vector<std::string>{"1", "a"});
  CHECK(rows[1] == std::vector<std::string>{"2", "b"});
}

TEST_CASE("csv delimiter, comment lines and headerless files", "[core][csv]") {
  TempDir dir;
  CsvOptions semicolon;
  semicolon.delimiter = ';';
  semicolon.comment = '#';
  auto rows = read_all(dir.write("s.csv", "#note\na;b\n# another\n1;2\n"), semicolon);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0] == std::vector<std::string>{"1", "2"});

  CsvOptions tab;
  tab.delimiter = '\t';
  tab.has_header = false;
  const auto file = dir.write("t.tsv", "1\t2\n3\t4\n5\n");
  CsvReader reader(file, tab);
  CHECK(reader.header().empty());
  std::vector<std::string> fields;
  REQUIRE(reader.next(fields));
  CHECK(fields == std::vector<std::string>{"1", "2"});
  REQUIRE(reader.next(fields));
  // Without a header the first record sets the field count.
  auto error = expect_data_error([&] { reader.next(fields); });
  CHECK(error.line() == 3);
  CHECK(std::string(error.what()).find(file + ":3:2") != std::string::npos);
}

TEST_CASE("csv wrong field count names file:line:column", "[core][csv]") {
  TempDir dir;
  const auto short_file = dir.write("short.csv", "a,b,c\n1,2,3\n4,5\n");
  auto error = expect_data_error([&] { read_all(short_file); });
  CHECK(error.file() == short_file);
  CHECK(error.line() == 3);
  CHECK(error.column() == 3);  // the first missing field
  CHECK(std::string(error.what()).find(short_file + ":3:3") != std::string::npos);
  CHECK(error.detail().find("field count") != std::string::npos);

  const auto long_file = dir.write("long.csv", "a,b\n1,2\n\"x\ny\",2\n1,2,3\n");
  error = expect_data_error([&] { read_all(long_file); });
  CHECK(error.line() == 5);    // the quoted newline on line 3-4 is counted
  CHECK(error.column() == 3);  // the first extra field
}

TEST_CASE("csv unterminated quote names the line where the record starts", "[core][csv]") {
  TempDir dir;
  const auto file = dir.write("open.csv", "a,b\n1,2\n3,\"never closed\n4,5\n6,7\n");
  auto error = expect_data_error([&] { read_all(file); });
  CHECK(error.line() == 3);
  CHECK(error.detail().find("unterminated") != std::string::npos);
}

TEST_CASE("csv text after a closing quote is malformed", "[core][csv]") {
  TempDir dir;
  const auto file = dir.write("bad.csv", "a,b\n1,2\n\"ab\"c,3\n");
  auto error = expect_data_error([&] { read_all(file); });
  CHECK(error.line() == 3);
  CHECK(error.column() == 1);
}

TEST_CASE("csv empty file and missing file", "[core][csv]") {
  TempDir dir;
  const auto empty = dir.write("empty.csv", "");
  auto error = expect_data_error([&] { CsvReader reader(empty); });
  CHECK(error.detail().find("empty file") != std::string::npos);
  error = expect_data_error([&] { CsvReader reader(dir.write("blank.csv", "\n\n")); });
  CHECK(error.detail().find("empty file") != std::string::npos);

  CsvOptions no_header;
  no_header.has_header = false;
  CHECK(read_all(empty, no_header).empty());

  error = expect_data_error([&] { CsvReader reader(dir.file("absent.csv")); });
  CHECK(error.detail().find("cannot open") != std::string::npos);
  fs::create_directories(dir.file("folder.csv"));
  error = expect_data_error([&] { CsvReader reader(dir.file("folder.csv")); });
  CHECK(error.detail().find("directory") != std::string::npos);
}

TEST_CASE("csv reads gzip transparently", "[core][csv]") {
  TempDir dir;
  const std::string text = many_rows(5000);
  auto plain = read_all(dir.write("p.csv", text));
  auto gz = read_all(dir.write_gz("p.csv.gz", text));
  REQUIRE(plain.size() == 5000);
  CHECK(gz == plain);
  CHECK(gz[4999] == std::vector<std::string>{"4999", "2499.500000", "row4999"});
}

TEST_CASE("csv truncated or corrupt gzip is a DataError", "[core][csv]") {
  TempDir dir;
  const auto file = dir.write_gz("full.csv.gz", many_rows(20000));
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  REQUIRE(bytes.size() > 1000);

  const auto cut = dir.write("cut.csv.gz", bytes.substr(0, bytes.size() / 2));
  auto error = expect_data_error([&] { read_all(cut); });
  CHECK(error.detail().find("truncated or corrupt gzip stream") != std::string::npos);

  // Only the 8-byte trailer missing: every record decompresses, the stream is still incomplete.
  const auto no_trailer = dir.write("trailer.csv.gz", bytes.substr(0, bytes.size() - 8));
  error = expect_data_error([&] { read_all(no_trailer); });
  CHECK(error.detail().find("truncated or corrupt gzip stream") != std::string::npos);

  std::string flipped = bytes;
  flipped[flipped.size() - 6] = static_cast<char>(flipped[flipped.size() - 6] ^ 0x5A);  // CRC32 byte
  error = expect_data_error([&] { read_all(dir.write("crc.csv.gz", flipped)); });
  CHECK(error.detail().find("truncated or corrupt gzip stream") != std::string::npos);
}

TEST_CASE("is_missing_token spellings", "[core][csv]") {
  for (const char* token : {"", "nan", "NaN", "NAN", "NA", "na", "null", "NULL", "Null"}) {
    CHECK(opsbench::is_missing_token(token));
  }
  for (const char* token : {"None", "0", " ", "n/a", "nil", "nan0"}) {
    CHECK_FALSE(opsbench::is_missing_token(token));
  }
}

TEST_CASE("parse_double accepts whole numbers only", "[core][csv]") {
  double v = 0;
  CHECK(opsbench::parse_double("1.5", v));
  CHECK(v == 1.5);
  CHECK(opsbench::parse_double("-2e3", v));
  CHECK(v == -2000.0);
  CHECK(opsbench::parse_double(" 7 ", v));
  CHECK(v == 7.0);
  CHECK(opsbench::parse_double("+3", v));
  CHECK(v == 3.0);
  CHECK(opsbench::parse_double("inf", v));
  CHECK(v == std::numeric_limits<double>::infinity());
  CHECK(opsbench::parse_double("-inf", v));
  CHECK(v == -std::numeric_limits<double>::infinity());
  CHECK(opsbench::parse_double("1e999", v));  // saturates rather than failing
  CHECK(v == std::numeric_limits<double>::infinity());
  v = 42;
  for (const char* bad : {"", "abc", "1.5x", "1,5", "nan", "0x10", "--1", "1 2"}) {
    CHECK_FALSE(opsbench::parse_double(bad, v));
  }
  CHECK(v == 42);  // untouched on failure
}

TEST_CASE("digest_file gives sha256 and size", "[core][csv]") {
  TempDir dir;
  // FIPS 180-2 test vector: sha256("abc").
  auto digest = opsbench::digest_file(dir.write("abc.txt", "abc"));
  CHECK(digest.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(digest.bytes == 3);
  // sha256 of the empty string (same standard).
  digest = opsbench::digest_file(dir.write("empty.txt", ""));
  CHECK(digest.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(digest.bytes == 0);
  CHECK_THROWS_AS(opsbench::digest_file(dir.file("absent")), DataError);
}

TEST_CASE("csv keeps spaces inside unquoted fields (RFC 4180)", "[core][csv]") {
  TempDir dir;
  const auto file = dir.write("sp.csv", "a, b\n x ,y \n\" q \",2\n");
  CsvReader reader(file);
  CHECK(reader.header() == std::vector<std::string>{"a", " b"});
  auto rows = read_all(file);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == std::vector<std::string>{" x ", "y "});
  CHECK(rows[1] == std::vector<std::string>{" q ", "2"});
  double v = 0;
  CHECK(opsbench::parse_double(rows[1][1], v));
}
