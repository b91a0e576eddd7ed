// Event-count matrices for the log readers (private to datasets/).
//
// A log reader turns each session or time window into the list of event keys it holds; this class
// interns the keys, keeps one list per row and finally writes one numeric column per key, the
// number of times the key occurs in the row (loglizer's event-count matrix). Columns are ordered
// by key: keys that are all digits, or a letter prefix followed by digits ("E7", "E12"), sort by
// their number so that E7 precedes E12; any other key sorts after them, lexicographically.
// Not thread-safe; one instance per read.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "opsbench/core/table.h"

namespace opsbench {

class EventCounts {
 public:
  // Interns `key` and returns its id (dense, in order of first appearance).
  int intern(const std::string& key);
  // Appends a row holding these key ids (with repetitions).
  void add_row(std::vector<int> ids) { rows_.push_back(std::move(ids)); }
  std::size_t num_rows() const { return rows_.size(); }
  std::size_t num_keys() const { return keys_.size(); }
  const std::vector<int>& row(std::size_t i) const { return rows_[i]; }

  // Adds one numeric column per key to `table`, named `prefix + key`, over the given rows in that
  // order. Only keys occurring in at least one of those rows get a column (a key seen only in
  // dropped rows would be an all-zero column).
  void write_columns(Table& table, const std::vector<std::size_t>& rows, const std::string& prefix) const;

 private:
  std::map<std::string, int> ids_;
  std::vector<std::string> keys_;
  std::vector<std::vector<int>> rows_;
};

// Order of event keys described above: true when `a` sorts before `b`.
bool event_key_less(const std::string& a, const std::string& b);

}  // namespace opsbench
