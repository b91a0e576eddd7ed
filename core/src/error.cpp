#include "opsbench/core/error.h"

#include <utility>

namespace opsbench {
namespace {

std::string with_location(const std::string& file, std::int64_t line, std::int64_t column,
                          const std::string& message) {
  if (file.empty()) return message;
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out + ": " + message;
}

}  // namespace

DataError::DataError(std::string file, std::int64_t line, std::int64_t column, const std::string& message)
    : Error(with_location(file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      detail_(message) {}

}  // namespace opsbench
