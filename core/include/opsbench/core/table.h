// Table: the columnar data every reader produces and every method consumes.
//
// A Table holds named, typed feature columns (numeric float64, categorical with a dictionary, text,
// timestamp), optional row groups (e.g. the DAG run a job belongs to: splits keep a group whole)
// and zero or more label columns (labels()[0] is the primary label). Missing values are explicit:
// every column has a validity mask; a numeric missing value is also stored as NaN so that code
// reading values() alone cannot mistake it for a number.
//
// Tables are values: copying copies the data. take() builds a row subset. Nothing here is
// thread-safe for concurrent mutation; concurrent const access is fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "opsbench/core/matrix.h"

namespace opsbench {

enum class ColumnType { kNumeric, kCategorical, kText, kTimestamp };

const char* to_string(ColumnType type);

class Column {
 public:
  Column() = default;
  Column(std::string name, ColumnType type);

  static Column numeric(std::string name, std::vector<double> values);  // NaN = missing
  static Column categorical(std::string name, const std::vector<std::string>& values,
                            const std::vector<bool>& missing = {});
  static Column text(std::string name, std::vector<std::string> values);
  // Seconds since the Unix epoch (UTC).
  static Column timestamp(std::string name, std::vector<std::int64_t> seconds);

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  ColumnType type() const { return type_; }
  std::size_t size() const { return valid_.size(); }
  bool is_missing(std::size_t row) const { return !valid_[row]; }
  std::size_t missing_count() const;

  // Appending (readers). Each append adds one row.
  void append_numeric(double value);            // NaN appends a missing value
  void append_category(const std::string& value);  // interned into the dictionary
  void append_text(std::string value);
  void append_timestamp(std::int64_t seconds);
  void append_missing();

  // Typed access. Calling the accessor of another type throws std::logic_error (programmer error).
  const std::vector<double>& values() const;             // numeric
  std::vector<double>& mutable_values();                  // numeric; keep NaN <-> missing in sync
  const std::vector<std::int32_t>& codes() const;         // categorical, -1 = missing
  const std::vector<std::string>& dictionary() const;     // categorical code -> string
  const std::vector<std::string>& texts() const;          // text
  const std::vector<std::int64_t>& timestamps() const;    // timestamp
  // Value as a string for any type ("" when missing); numbers use the shortest round-trip form.
  std::string to_string(std::size_t row) const;

  Column take(const std::vector<std::size_t>& rows) const;

 private:
  void require(ColumnType type) const;

  std::string name_;
  ColumnType type_ = ColumnType::kNumeric;
  std::vector<bool> valid_;
  std::vector<double> numeric_;
  std::vector<std::int32_t> codes_;
  std::vector<std::string> dictionary_;
  std::vector<std::string> text_;
  std::vector<std::int64_t> timestamp_;
};

// A label column: integer class per row, class names by index. -1 = unlabelled row.
// For detection the convention is binary with class 1 = anomalous.
struct Labels {
  std::string name;
  std::vector<int> values;
  std::vector<std::string> classes;

  int num_classes() const { return static_cast<int>(classes.size()); }
  std::vector<std::size_t> class_counts() const;
};

class Table {
 public:
  std::size_t num_rows() const;
  std::size_t num_columns() const { return columns_.size(); }

  void add_column(Column column);  // size must match num_rows() unless the table is empty
  const std::vector<Column>& columns() const { return columns_; }
  std::vector<Column>& mutable_columns() { return columns_; }
  const Column& column(std::size_t i) const { return columns_.at(i); }
  // Throws ConfigError listing the column names when absent.
  const Column& column(const std::string& name) const;
  bool has_column(const std::string& name) const;
  std::vector<std::string> column_names() const;

  // Row groups: group id per row (dense 0..G-1) and the group names.
  bool has_groups() const { return !groups_.empty(); }
  const std::vector<int>& groups() const { return groups_; }
  const std::vector<std::string>& group_names() const { return group_names_; }
  void set_groups(std::vector<int> groups, std::vector<std::string> names);

  bool has_labels() const { return !labels_.empty(); }
  const std::vector<Labels>& labels() const { return labels_; }
  const Labels& label() const;  // primary label; throws ConfigError when the table has none
  void add_labels(Labels labels);
  std::vector<Labels>& mutable_labels() { return labels_; }

  // Row subset, in the order given (columns, groups and labels alike).
  Table take(const std::vector<std::size_t>& rows) const;

  // The feature columns as a dense row-major matrix, text columns left out (they are carried for
  // text methods, see [preprocess] text = "keep"). Every other column must be numeric with no
  // missing values; otherwise throws DataError naming the column (encode and impute first).
  Matrix to_matrix() const;

 private:
  std::vector<Column> columns_;
  std::vector<int> groups_;
  std::vector<std::string> group_names_;
  std::vector<Labels> labels_;
};

}  // namespace opsbench
