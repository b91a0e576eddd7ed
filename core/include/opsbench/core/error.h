// Typed errors for what ends a run or a cell.
//
// Library code throws these for bad input; it never calls exit() or abort(). The CLI catches
// them once in main and maps them to exit codes (ConfigError/DataError -> 2). Inside a suite, the
// runner catches them per cell and records the cell as failed with what(), and the suite goes on.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace opsbench {

// Base of every opsbench error.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A suite file, spec string, option or command-line value is wrong. The message names the key and,
// where there is a closed set, lists the valid values.
class ConfigError : public Error {
 public:
  explicit ConfigError(const std::string& message) : Error(message) {}
};

// Input data is wrong. Carries the place: file, 1-based line and 1-based column (the CSV field
// index, or a character column for non-CSV formats). line/column are 0 when unknown.
// what() reads "FILE:LINE:COLUMN: message" (parts that are unknown are left out).
class DataError : public Error {
 public:
  DataError(std::string file, std::int64_t line, std::int64_t column, const std::string& message);
  explicit DataError(const std::string& message) : DataError("", 0, 0, message) {}

  const std::string& file() const { return file_; }
  std::int64_t line() const { return line_; }
  std::int64_t column() const { return column_; }
  // The message without the location prefix.
  const std::string& detail() const { return detail_; }

 private:
  std::string file_;
  std::int64_t line_;
  std::int64_t column_;
  std::string detail_;
};

// A model cannot be trained or used: diverged, non-finite output, truncated model file...
class ModelError : public Error {
 public:
  explicit ModelError(const std::string& message) : Error(message) {}
};

}  // namespace opsbench
