// Generic CSV datasets: a Table read from one or more CSV files (gzip read transparently) with a
// schema saying what each column is. Used by the "csv" reader of the registry and directly by
// `opsbench eval --train FILE --test FILE --label COL`.
//
// Columns. Each header column is exactly one of: the label, the group, a feature (numeric,
// categorical, text or timestamp) or ignored. Columns named in the schema's lists have the type of
// their list; columns named nowhere are inferred when `infer` is true (numeric when every non-missing
// value in every file parses as a number, else categorical) and dropped when it is false. Feature
// columns keep the header's order. Missing values are the spellings of is_missing_token() ("", nan,
// NA, null).
//
// Labels. With `label` set, the table gets one label column:
// - `positive` non-empty: values in it are class 1, all others class 0 (classes "not A|B", "A|B");
// - `normal` non-empty: values in it are class 0, all others class 1 (classes "A|B", "not A|B");
// - both: every value must be in one of them (DataError otherwise);
// - neither: one class per distinct value, sorted numerically when every value is a number (so 0/1
//   labels map to classes 0 and 1 and class names are the numbers), else lexicographically.
// A value matches a listed one when the strings are equal or both are numbers of equal value.
// A missing label value is a DataError naming file:line:column.
//
// Groups. With `group` set, each distinct value is a group (ids in order of first appearance).
//
// Files. Several files (train/validation/test) must have the same column names (order may differ);
// their rows are concatenated in that order and Dataset.given_split says which part each row is.
// Every file read is listed in Dataset.files with its sha256.
//
// Errors: a column named in the schema but absent from the header, or named in two roles, is a
// ConfigError naming it and listing the header; a value that does not parse in a numeric or
// timestamp column, a column whose values are all missing, a duplicate header name, and every CSV
// format error (see csv.h) are DataErrors with file:line:column.
//
// Timestamps are integer (or fractional, floored) epoch seconds, or ISO 8601 UTC
// "YYYY-MM-DD[ T]HH:MM:SS[.fff][Z]" or "YYYY-MM-DD".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "opsbench/core/csv.h"
#include "opsbench/core/dataset.h"

namespace opsbench {

struct CsvSchema {
  std::string label;                  // "" = unlabelled
  std::vector<std::string> positive;  // label values meaning class 1
  std::vector<std::string> normal;    // label values meaning class 0
  std::string group;                  // "" = no groups
  std::vector<std::string> numeric;
  std::vector<std::string> categorical;
  std::vector<std::string> text;
  std::vector<std::string> timestamp;
  std::vector<std::string> ignore;
  bool infer = true;
  CsvOptions csv;
};

// One file; the suite splits it (no given_split).
Dataset read_csv_dataset(const CsvSchema& schema, const std::string& path);

// Explicit parts used as given. `validation` may be empty (no validation part); train and test are
// required (ConfigError when empty).
Dataset read_csv_dataset(const CsvSchema& schema, const std::string& train, const std::string& validation,
                         const std::string& test);

// Parses a timestamp cell as described above; false when it is neither form.
bool parse_timestamp(const std::string& text, std::int64_t& seconds);

}  // namespace opsbench
