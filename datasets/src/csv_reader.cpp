// Generic CSV datasets. See csv_dataset.h for the contract.
//
// Two passes: the files are read into per-column string cells first (so that inference sees every
// value of every file before a type is chosen), then each column is converted once.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include "opsbench/core/error.h"
#include "opsbench/datasets/csv_dataset.h"
#include "readers.h"

namespace opsbench {
namespace {

enum class Role { kInfer, kLabel, kGroup, kNumeric, kCategorical, kText, kTimestamp, kIgnore };

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

// Cells of every file, column-major, with where each row came from (for error messages).
struct RawData {
  std::vector<std::string> names;                      // header of the first file
  std::vector<std::vector<std::string>> cells;         // [column][row]
  std::vector<std::uint32_t> row_file;                 // file index per row
  std::vector<std::int64_t> row_line;                  // 1-based line per row
  std::vector<std::string> paths;                      // per file
  std::vector<std::vector<std::int64_t>> file_column;  // [file][column] -> 1-based field in that file
  std::vector<Part> row_part;
};

void read_file(const std::string& path, Part part, const CsvOptions& options, RawData& raw) {
  CsvReader reader(path, options);
  const auto& header = reader.header();
  const std::uint32_t file_index = static_cast<std::uint32_t>(raw.paths.size());
  {
    std::set<std::string> seen;
    for (std::size_t j = 0; j < header.size(); ++j) {
      if (!seen.insert(header[j]).second) {
        throw DataError(path, 1, static_cast<std::int64_t>(j) + 1, "duplicate column name '" + header[j] + "'");
      }
    }
  }
  // to_canonical[j] = index in raw.names of this file's field j.
  std::vector<std::size_t> to_canonical(header.size());
  if (raw.paths.empty()) {
    raw.names = header;
    raw.cells.resize(header.size());
    for (std::size_t j = 0; j < header.size(); ++j) to_canonical[j] = j;
  } else {
    std::vector<std::string> a = raw.names, b = header;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b) {
      throw DataError(path, 1, 0,
                      "columns differ from those of " + raw.paths.front() + " (" + join(raw.names, ", ") + "): found " +
                          join(header, ", "));
    }
    for (std::size_t j = 0; j < header.size(); ++j) {
      to_canonical[j] =
          static_cast<std::size_t>(std::find(raw.names.begin(), raw.names.end(), header[j]) - raw.names.begin());
    }
  }
  std::vector<std::int64_t> columns(header.size());
  for (std::size_t j = 0; j < header.size(); ++j) columns[to_canonical[j]] = static_cast<std::int64_t>(j) + 1;
  raw.paths.push_back(path);
  raw.file_column.push_back(std::move(columns));

  std::vector<std::string> fields;
  while (reader.next(fields)) {
    for (std::size_t j = 0; j < fields.size(); ++j) raw.cells[to_canonical[j]].push_back(std::move(fields[j]));
    raw.row_file.push_back(file_index);
    raw.row_line.push_back(reader.line());
    raw.row_part.push_back(part);
  }
}

[[noreturn]] void cell_error(const RawData& raw, std::size_t column, std::size_t row, const std::string& message) {
  std::uint32_t f = raw.row_file[row];
  throw DataError(raw.paths[f], raw.row_line[row], raw.file_column[f][column], message);
}

std::map<std::string, Role> assign_roles(const CsvSchema& schema, const RawData& raw) {
  std::map<std::string, Role> roles;
  std::map<std::string, std::string> role_names;
  auto claim = [&](const std::string& name, Role role, const std::string& what) {
    if (std::find(raw.names.begin(), raw.names.end(), name) == raw.names.end()) {
      throw ConfigError("column '" + name + "' (named in " + what + ") is not in the header of " + raw.paths.front() +
                        "; header: " + join(raw.names, ", "));
    }
    auto it = role_names.find(name);
    if (it != role_names.end()) {
      throw ConfigError("column '" + name + "' is named both in " + it->second + " and in " + what);
    }
    roles[name] = role;
    role_names[name] = what;
  };
  if (!schema.label.empty()) claim(schema.label, Role::kLabel, "label");
  if (!schema.group.empty()) claim(schema.group, Role::kGroup, "group");
  for (const auto& n : schema.numeric) claim(n, Role::kNumeric, "numeric");
  for (const auto& n : schema.categorical) claim(n, Role::kCategorical, "categorical");
  for (const auto& n : schema.text) claim(n, Role::kText, "text");
  for (const auto& n : schema.timestamp) claim(n, Role::kTimestamp, "timestamp");
  for (const auto& n : schema.ignore) claim(n, Role::kIgnore, "ignore");
  for (const auto& n : raw.names) {
    if (roles.count(n) == 0) roles[n] = schema.infer ? Role::kInfer : Role::kIgnore;
  }
  return roles;
}

void require_some_value(const RawData& raw, std::size_t c) {
  for (const auto& cell : raw.cells[c]) {
    if (!is_missing_token(cell)) return;
  }
  throw DataError(raw.paths.front(), 0, 0,
                  "column '" + raw.names[c] + "': all values missing (list it in `ignore` to drop it)");
}

Column build_numeric(const RawData& raw, std::size_t c) {
  const auto& cells = raw.cells[c];
  std::vector<double> values(cells.size());
  for (std::size_t r = 0; r < cells.size(); ++r) {
    if (is_missing_token(cells[r])) {
      values[r] = std::nan("");
    } else if (!parse_double(cells[r], values[r])) {
      cell_error(raw, c, r, "column '" + raw.names[c] + "': '" + cells[r] + "' is not a number");
    }
  }
  return Column::numeric(raw.names[c], std::move(values));
}

bool all_numeric(const RawData& raw, std::size_t c) {
  double ignored = 0;
  for (const auto& cell : raw.cells[c]) {
    if (!is_missing_token(cell) && !parse_double(cell, ignored)) return false;
  }
  return true;
}

Column build_categorical(const RawData& raw, std::size_t c) {
  const auto& cells = raw.cells[c];
  std::vector<bool> missing(cells.size());
  for (std::size_t r = 0; r < cells.size(); ++r) missing[r] = is_missing_token(cells[r]);
  return Column::categorical(raw.names[c], cells, missing);
}

Column build_text(const RawData& raw, std::size_t c) {
  Column column(raw.names[c], ColumnType::kText);
  for (const auto& cell : raw.cells[c]) {
    if (is_missing_token(cell)) {
      column.append_missing();
    } else {
      column.append_text(cell);
    }
  }
  return column;
}

Column build_timestamp(const RawData& raw, std::size_t c) {
  Column column(raw.names[c], ColumnType::kTimestamp);
  const auto& cells = raw.cells[c];
  for (std::size_t r = 0; r < cells.size(); ++r) {
    std::int64_t seconds = 0;
    if (is_missing_token(cells[r])) {
      column.append_missing();
    } else if (parse_timestamp(cells[r], seconds)) {
      column.append_timestamp(seconds);
    } else {
      cell_error(raw, c, r,
                 "column '" + raw.names[c] + "': '" + cells[r] +
                     "' is not a timestamp (epoch seconds or YYYY-MM-DD[ T]HH:MM:SS)");
    }
  }
  return column;
}

bool label_matches(const std::string& value, const std::vector<std::string>& listed) {
  double a = 0, b = 0;
  bool value_numeric = parse_double(value, a);
  for (const auto& item : listed) {
    if (item == value) return true;
    if (value_numeric && parse_double(item, b) && a == b) return true;
  }
  return false;
}

std::string number_name(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round-trip form
  return std::string(buffer, result.ptr);
}

Labels build_labels(const CsvSchema& schema, const RawData& raw, std::size_t c) {
  const auto& cells = raw.cells[c];
  Labels labels;
  labels.name = raw.names[c];
  labels.values.resize(cells.size());
  for (std::size_t r = 0; r < cells.size(); ++r) {
    if (is_missing_token(cells[r])) cell_error(raw, c, r, "label column '" + raw.names[c] + "': missing value");
  }
  const bool has_positive = !schema.positive.empty();
  const bool has_normal = !schema.normal.empty();
  if (has_positive || has_normal) {
    const std::string pos = has_positive ? join(schema.positive, "|") : "not " + join(schema.normal, "|");
    const std::string neg = has_normal ? join(schema.normal, "|") : "not " + join(schema.positive, "|");
    labels.classes = {neg, pos};
    for (std::size_t r = 0; r < cells.size(); ++r) {
      bool is_pos = has_positive && label_matches(cells[r], schema.positive);
      bool is_neg = has_normal && label_matches(cells[r], schema.normal);
      if (has_positive && has_normal && !is_pos && !is_neg) {
        cell_error(raw, c, r,
                   "label value '" + cells[r] + "' is in neither `positive` (" + join(schema.positive, ";") +
                       ") nor `normal` (" + join(schema.normal, ";") + ")");
      }
      labels.values[r] = has_positive ? (is_pos ? 1 : 0) : (is_neg ? 0 : 1);
    }
    return labels;
  }
  // One class per distinct value.
  std::vector<double> numbers(cells.size());
  bool numeric = true;
  for (std::size_t r = 0; r < cells.size() && numeric; ++r) numeric = parse_double(cells[r], numbers[r]);
  if (numeric) {
    std::vector<double> distinct = numbers;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (double v : distinct) labels.classes.push_back(number_name(v));
    for (std::size_t r = 0; r < cells.size(); ++r) {
      labels.values[r] =
          static_cast<int>(std::lower_bound(distinct.begin(), distinct.end(), numbers[r]) - distinct.begin());
    }
  } else {
    std::set<std::string> distinct(cells.begin(), cells.end());
    labels.classes.assign(distinct.begin(), distinct.end());
    std::unordered_map<std::string, int> index;
    for (std::size_t i = 0; i < labels.classes.size(); ++i) index[labels.classes[i]] = static_cast<int>(i);
    for (std::size_t r = 0; r < cells.size(); ++r) labels.values[r] = index[cells[r]];
  }
  return labels;
}

void build_groups(const RawData& raw, std::size_t c, Table& table) {
  const auto& cells = raw.cells[c];
  std::vector<int> ids(cells.size());
  std::vector<std::string> names;
  std::unordered_map<std::string, int> index;
  for (std::size_t r = 0; r < cells.size(); ++r) {
    if (is_missing_token(cells[r])) cell_error(raw, c, r, "group column '" + raw.names[c] + "': missing value");
    auto it = index.find(cells[r]);
    if (it == index.end()) {
      it = index.emplace(cells[r], static_cast<int>(names.size())).first;
      names.push_back(cells[r]);
    }
    ids[r] = it->second;
  }
  table.set_groups(std::move(ids), std::move(names));
}

Dataset build_dataset(const CsvSchema& schema, std::vector<std::pair<std::string, Part>> files, bool given) {
  RawData raw;
  for (const auto& [path, part] : files) read_file(path, part, schema.csv, raw);
  const auto roles = assign_roles(schema, raw);

  Dataset dataset;
  const std::size_t rows = raw.row_line.size();
  std::size_t label_column = raw.names.size(), group_column = raw.names.size();
  for (std::size_t c = 0; c < raw.names.size(); ++c) {
    const Role role = roles.at(raw.names[c]);
    if (role == Role::kIgnore) continue;
    if (role == Role::kLabel) {
      label_column = c;
      continue;
    }
    if (role == Role::kGroup) {
      group_column = c;
      continue;
    }
    if (rows > 0) require_some_value(raw, c);
    switch (role) {
      case Role::kNumeric:
        dataset.table.add_column(build_numeric(raw, c));
        break;
      case Role::kCategorical:
        dataset.table.add_column(build_categorical(raw, c));
        break;
      case Role::kText:
        dataset.table.add_column(build_text(raw, c));
        break;
      case Role::kTimestamp:
        dataset.table.add_column(build_timestamp(raw, c));
        break;
      case Role::kInfer:
        dataset.table.add_column(all_numeric(raw, c) ? build_numeric(raw, c) : build_categorical(raw, c));
        break;
      default:
        break;
    }
    raw.cells[c].clear();
    raw.cells[c].shrink_to_fit();
  }
  if (label_column < raw.names.size()) dataset.table.add_labels(build_labels(schema, raw, label_column));
  if (group_column < raw.names.size()) build_groups(raw, group_column, dataset.table);
  if (given) dataset.given_split = std::move(raw.row_part);

  for (const auto& path : raw.paths) {
    FileDigest digest = digest_file(path);
    dataset.files.push_back(DataFile{path, digest.bytes, digest.sha256});
  }
  dataset.description = "CSV " + join(raw.paths, ", ") + " (" + std::to_string(rows) + " rows, " +
                        std::to_string(dataset.table.num_columns()) + " feature columns)";
  return dataset;
}

// Days since 1970-01-01 of a proleptic Gregorian date (civil-from-days inverse, era arithmetic).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t month = static_cast<std::int64_t>(m);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + static_cast<std::int64_t>(d) - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool read_digits(const std::string& s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

bool parse_timestamp(const std::string& text, std::int64_t& seconds) {
  double number = 0;
  if (parse_double(text, number)) {
    if (!std::isfinite(number) || std::fabs(number) > 9.0e15) return false;
    seconds = static_cast<std::int64_t>(std::floor(number));
    return true;
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' || text[7] != '-' ||
      !read_digits(text, 5, 2, month) || !read_digits(text, 8, 2, day)) {
    return false;
  }
  std::size_t pos = 10;
  if (pos < text.size()) {
    if ((text[pos] != ' ' && text[pos] != 'T') || text.size() < 19 || text[13] != ':' || text[16] != ':' ||
        !read_digits(text, 11, 2, hour) || !read_digits(text, 14, 2, minute) || !read_digits(text, 17, 2, second)) {
      return false;
    }
    pos = 19;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      std::size_t start = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
      if (pos == start) return false;
    }
    if (pos < text.size() && text[pos] == 'Z') ++pos;
    if (pos != text.size()) return false;
  }
  static const int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysIn[month - 1] || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return false;
  seconds = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 + hour * 3600 +
            minute * 60 + second;
  return true;
}

Dataset read_csv_dataset(const CsvSchema& schema, const std::string& path) {
  if (path.empty()) throw ConfigError("csv: no file given");
  return build_dataset(schema, {{path, Part::kTrain}}, false);
}

Dataset read_csv_dataset(const CsvSchema& schema, const std::string& train, const std::string& validation,
                         const std::string& test) {
  if (train.empty() || test.empty()) throw ConfigError("csv: both a train and a test file are required");
  std::vector<std::pair<std::string, Part>> files = {{train, Part::kTrain}};
  if (!validation.empty()) files.emplace_back(validation, Part::kValidation);
  files.emplace_back(test, Part::kTest);
  return build_dataset(schema, std::move(files), true);
}

ReaderEntry csv_reader_entry() {
  ReaderEntry entry;
  entry.name = "csv";
  entry.description =
      "Generic CSV (gzip read transparently) with a declared schema: one file (`path`, split by the suite) "
      "or explicit `train`/`validation`/`test` files used as given";
  entry.options = {
      OptionDecl::string("path", "", "one file to be split by the suite (data:REL is under the data root)"),
      OptionDecl::string("train", "", "training file (with `test`: the split is given, not made)"),
      OptionDecl::string("validation", "", "optional validation file (with `train` and `test`)"),
      OptionDecl::string("test", "", "test file (with `train`)"),
      OptionDecl::string("label", "", "label column; empty for unlabelled data"),
      OptionDecl::list("positive", "", "label values meaning class 1 (anomalous/positive); others are 0"),
      OptionDecl::list("normal", "", "label values meaning class 0; others are 1"),
      OptionDecl::string("group", "", "column whose values are row groups (kept whole by group splits)"),
      OptionDecl::list("numeric", "", "numeric feature columns"),
      OptionDecl::list("categorical", "", "categorical feature columns"),
      OptionDecl::list("text", "", "free-text feature columns"),
      OptionDecl::list("timestamp", "", "timestamp columns (epoch seconds or ISO YYYY-MM-DD[ T]HH:MM:SS)"),
      OptionDecl::list("ignore", "", "columns to drop"),
      OptionDecl::boolean("infer", true,
                          "infer the type of columns named nowhere (numeric if every value is a number, "
                          "else categorical); false drops them"),
      OptionDecl::choice("delimiter", "comma", {"comma", "semicolon", "tab", "pipe"}, "field delimiter"),
  };
  entry.read = [](const Options& options, const ReadContext& ctx) {
    CsvSchema schema;
    schema.label = options.get_string("label");
    schema.positive = options.get_list("positive");
    schema.normal = options.get_list("normal");
    schema.group = options.get_string("group");
    schema.numeric = options.get_list("numeric");
    schema.categorical = options.get_list("categorical");
    schema.text = options.get_list("text");
    schema.timestamp = options.get_list("timestamp");
    schema.ignore = options.get_list("ignore");
    schema.infer = options.get_bool("infer");
    const std::string& delimiter = options.get_string("delimiter");
    schema.csv.delimiter = delimiter == "semicolon" ? ';' : delimiter == "tab" ? '\t' : delimiter == "pipe" ? '|' : ',';
    if ((!schema.positive.empty() || !schema.normal.empty()) && schema.label.empty()) {
      throw ConfigError("reader csv: `positive`/`normal` need a `label` column");
    }
    auto resolve = [&ctx](const std::string& path) { return path.empty() ? path : resolve_data_path(path, ctx); };
    const std::string path = options.get_string("path");
    const std::string train = options.get_string("train");
    const std::string validation = options.get_string("validation");
    const std::string test = options.get_string("test");
    const bool parts = !train.empty() || !validation.empty() || !test.empty();
    if (path.empty() == !parts) {
      throw ConfigError(
          "reader csv: give either `path` (one file) or `train` and `test` (and optionally "
          "`validation`), not both and not neither");
    }
    if (!path.empty()) return read_csv_dataset(schema, resolve(path));
    return read_csv_dataset(schema, resolve(train), resolve(validation), resolve(test));
  };
  return entry;
}

}  // namespace opsbench
