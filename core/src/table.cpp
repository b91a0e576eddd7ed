// Table and Column. See table.h for the contract.
#include "opsbench/core/table.h"

#include <charconv>
#include <cmath>
#include <ctime>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "opsbench/core/error.h"

namespace opsbench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string shortest(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// ISO 8601 UTC without zone suffix ("2022-08-05T23:59:31"), the form the CSV reader reads back.
std::string iso_time(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  return buffer;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

const char* to_string(ColumnType type) {
  switch (type) {
    case ColumnType::kNumeric:
      return "numeric";
    case ColumnType::kCategorical:
      return "categorical";
    case ColumnType::kText:
      return "text";
    case ColumnType::kTimestamp:
      return "timestamp";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------- Column

Column::Column(std::string name, ColumnType type) : name_(std::move(name)), type_(type) {}

Column Column::numeric(std::string name, std::vector<double> values) {
  Column column(std::move(name), ColumnType::kNumeric);
  column.valid_.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) column.valid_[i] = !std::isnan(values[i]);
  column.numeric_ = std::move(values);
  return column;
}

Column Column::categorical(std::string name, const std::vector<std::string>& values, const std::vector<bool>& missing) {
  if (!missing.empty() && missing.size() != values.size()) {
    throw std::invalid_argument("Column::categorical: missing mask size differs from values size");
  }
  Column column(std::move(name), ColumnType::kCategorical);
  column.valid_.resize(values.size());
  column.codes_.resize(values.size());
  // A hash index makes bulk construction linear even for high-cardinality columns.
  std::unordered_map<std::string, std::int32_t> index;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!missing.empty() && missing[i]) {
      column.codes_[i] = -1;
      column.valid_[i] = false;
      continue;
    }
    auto it = index.find(values[i]);
    if (it == index.end()) {
      it = index.emplace(values[i], static_cast<std::int32_t>(column.dictionary_.size())).first;
      column.dictionary_.push_back(values[i]);
    }
    column.codes_[i] = it->second;
    column.valid_[i] = true;
  }
  return column;
}

Column Column::text(std::string name, std::vector<std::string> values) {
  Column column(std::move(name), ColumnType::kText);
  column.valid_.assign(values.size(), true);
  column.text_ = std::move(values);
  return column;
}

Column Column::timestamp(std::string name, std::vector<std::int64_t> seconds) {
  Column column(std::move(name), ColumnType::kTimestamp);
  column.valid_.assign(seconds.size(), true);
  column.timestamp_ = std::move(seconds);
  return column;
}

std::size_t Column::missing_count() const {
  std::size_t n = 0;
  for (bool valid : valid_) n += valid ? 0 : 1;
  return n;
}

void Column::require(ColumnType type) const {
  if (type_ != type) {
    throw std::logic_error("column '" + name_ + "' is " + opsbench::to_string(type_) + ", not " +
                           opsbench::to_string(type));
  }
}

void Column::append_numeric(double value) {
  require(ColumnType::kNumeric);
  numeric_.push_back(value);
  valid_.push_back(!std::isnan(value));
}

void Column::append_category(const std::string& value) {
  require(ColumnType::kCategorical);
  // Linear search: readers of large, high-cardinality data should build with categorical().
  std::int32_t code = -1;
  for (std::size_t i = dictionary_.size(); i-- > 0;) {
    if (dictionary_[i] == value) {
      code = static_cast<std::int32_t>(i);
      break;
    }
  }
  if (code < 0) {
    code = static_cast<std::int32_t>(dictionary_.size());
    dictionary_.push_back(value);
  }
  codes_.push_back(code);
  valid_.push_back(true);
}

void Column::append_text(std::string value) {
  require(ColumnType::kText);
  text_.push_back(std::move(value));
  valid_.push_back(true);
}

void Column::append_timestamp(std::int64_t seconds) {
  require(ColumnType::kTimestamp);
  timestamp_.push_back(seconds);
  valid_.push_back(true);
}

void Column::append_missing() {
  switch (type_) {
    case ColumnType::kNumeric:
      numeric_.push_back(kNaN);
      break;
    case ColumnType::kCategorical:
      codes_.push_back(-1);
      break;
    case ColumnType::kText:
      text_.emplace_back();
      break;
    case ColumnType::kTimestamp:
      timestamp_.push_back(0);
      break;
  }
  valid_.push_back(false);
}

const std::vector<double>& Column::values() const {
  require(ColumnType::kNumeric);
  return numeric_;
}

std::vector<double>& Column::mutable_values() {
  require(ColumnType::kNumeric);
  return numeric_;
}

const std::vector<std::int32_t>& Column::codes() const {
  require(ColumnType::kCategorical);
  return codes_;
}

const std::vector<std::string>& Column::dictionary() const {
  require(ColumnType::kCategorical);
  return dictionary_;
}

const std::vector<std::string>& Column::texts() const {
  require(ColumnType::kText);
  return text_;
}

const std::vector<std::int64_t>& Column::timestamps() const {
  require(ColumnType::kTimestamp);
  return timestamp_;
}

std::string Column::to_string(std::size_t row) const {
  if (!valid_.at(row)) return "";
  switch (type_) {
    case ColumnType::kNumeric: {
      // mutable_values() may have put NaN where valid_ still says present.
      double value = numeric_[row];
      return std::isnan(value) ? std::string() : shortest(value);
    }
    case ColumnType::kCategorical:
      return dictionary_[static_cast<std::size_t>(codes_[row])];
    case ColumnType::kText:
      return text_[row];
    case ColumnType::kTimestamp:
      return iso_time(timestamp_[row]);
  }
  return "";
}

Column Column::take(const std::vector<std::size_t>& rows) const {
  Column out(name_, type_);
  out.valid_.resize(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) out.valid_[i] = valid_.at(rows[i]);
  switch (type_) {
    case ColumnType::kNumeric:
      out.numeric_.resize(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) out.numeric_[i] = numeric_[rows[i]];
      break;
    case ColumnType::kCategorical:
      // The dictionary is kept whole so codes mean the same in every subset of one table.
      out.dictionary_ = dictionary_;
      out.codes_.resize(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) out.codes_[i] = codes_[rows[i]];
      break;
    case ColumnType::kText:
      out.text_.resize(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) out.text_[i] = text_[rows[i]];
      break;
    case ColumnType::kTimestamp:
      out.timestamp_.resize(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) out.timestamp_[i] = timestamp_[rows[i]];
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------- Labels

std::vector<std::size_t> Labels::class_counts() const {
  std::vector<std::size_t> counts(classes.size(), 0);
  for (int value : values) {
    if (value >= 0 && static_cast<std::size_t>(value) < counts.size()) ++counts[static_cast<std::size_t>(value)];
  }
  return counts;
}

// ----------------------------------------------------------------------------------------- Table

std::size_t Table::num_rows() const {
  if (!columns_.empty()) return columns_.front().size();
  if (!labels_.empty()) return labels_.front().values.size();
  return groups_.size();
}

void Table::add_column(Column column) {
  bool empty = columns_.empty() && labels_.empty() && groups_.empty();
  if (!empty && column.size() != num_rows()) {
    throw std::invalid_argument("Table::add_column: column '" + column.name() + "' has " +
                                std::to_string(column.size()) + " rows, the table " + std::to_string(num_rows()));
  }
  if (has_column(column.name())) {
    throw std::invalid_argument("Table::add_column: duplicate column name '" + column.name() + "'");
  }
  columns_.push_back(std::move(column));
}

const Column& Table::column(const std::string& name) const {
  for (const auto& column : columns_) {
    if (column.name() == name) return column;
  }
  throw ConfigError("no column '" + name + "'; columns: " + join_names(column_names()));
}

bool Table::has_column(const std::string& name) const {
  for (const auto& column : columns_) {
    if (column.name() == name) return true;
  }
  return false;
}

std::vector<std::string> Table::column_names() const {
  std::vector<std::string> names;
  names.reserve(columns_.size());
  for (const auto& column : columns_) names.push_back(column.name());
  return names;
}

void Table::set_groups(std::vector<int> groups, std::vector<std::string> names) {
  bool sized = !columns_.empty() || !labels_.empty();
  if (sized && groups.size() != num_rows()) {
    throw std::invalid_argument("Table::set_groups: " + std::to_string(groups.size()) + " group ids for " +
                                std::to_string(num_rows()) + " rows");
  }
  for (int g : groups) {
    if (g < 0 || static_cast<std::size_t>(g) >= names.size()) {
      throw std::invalid_argument("Table::set_groups: group id " + std::to_string(g) + " outside [0, " +
                                  std::to_string(names.size()) + ")");
    }
  }
  groups_ = std::move(groups);
  group_names_ = std::move(names);
}

const Labels& Table::label() const {
  if (labels_.empty()) throw ConfigError("the table has no label column");
  return labels_.front();
}

void Table::add_labels(Labels labels) {
  bool sized = !columns_.empty() || !labels_.empty() || !groups_.empty();
  if (sized && labels.values.size() != num_rows()) {
    throw std::invalid_argument("Table::add_labels: label '" + labels.name + "' has " +
                                std::to_string(labels.values.size()) + " rows, the table " +
                                std::to_string(num_rows()));
  }
  for (int v : labels.values) {
    if (v < -1 || v >= labels.num_classes()) {
      throw std::invalid_argument("Table::add_labels: label '" + labels.name + "' value " + std::to_string(v) +
                                  " outside [-1, " + std::to_string(labels.num_classes()) + ")");
    }
  }
  labels_.push_back(std::move(labels));
}

Table Table::take(const std::vector<std::size_t>& rows) const {
  Table out;
  out.columns_.reserve(columns_.size());
  for (const auto& column : columns_) out.columns_.push_back(column.take(rows));
  if (!groups_.empty()) {
    out.groups_.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) out.groups_[i] = groups_.at(rows[i]);
    out.group_names_ = group_names_;  // ids keep their meaning across subsets
  }
  for (const auto& labels : labels_) {
    Labels taken;
    taken.name = labels.name;
    taken.classes = labels.classes;
    taken.values.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) taken.values[i] = labels.values.at(rows[i]);
    out.labels_.push_back(std::move(taken));
  }
  return out;
}

Matrix Table::to_matrix() const {
  std::vector<const Column*> numeric;
  for (const auto& column : columns_) {
    if (column.type() == ColumnType::kText) continue;  // carried for text methods, not a feature here
    if (column.type() != ColumnType::kNumeric) {
      throw DataError("column '" + column.name() + "' is " + opsbench::to_string(column.type()) +
                      ", not numeric: encode it (or drop it) before using a numeric method");
    }
    std::size_t missing = column.missing_count();
    if (missing == 0) {
      for (double v : column.values()) {
        if (std::isnan(v)) {
          missing = 1;
          break;
        }
      }
    }
    if (missing > 0) {
      throw DataError("column '" + column.name() + "' has missing values (" + std::to_string(missing) +
                      "): impute them before using a numeric method");
    }
    numeric.push_back(&column);
  }
  const std::size_t cols = numeric.size();
  Matrix matrix(num_rows(), cols);
  for (std::size_t c = 0; c < cols; ++c) {
    const auto& values = numeric[c]->values();
    double* out = matrix.data.data() + c;
    for (std::size_t r = 0; r < values.size(); ++r) out[r * cols] = values[r];
  }
  return matrix;
}

}  // namespace opsbench
