// Feature transforms (contract in transforms.h).
//
// Every transform copies the table it is given (labels and groups included) and rebuilds only the
// columns it changes, keeping column order. Fitted statistics are keyed by column name, so a test
// table whose columns come in another order still gets the right statistics. Numeric columns
// created here go through Column::numeric, which derives the missing mask from NaN.
#include "opsbench/datasets/transforms.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <stdexcept>

#include "opsbench/core/error.h"

namespace opsbench {
namespace {

void require_fitted_column(const Table& rows, const std::string& name, ColumnType type, const std::string& transform) {
  if (!rows.has_column(name)) {
    throw DataError(fmt::format("{}: column '{}' was present when fitting but is missing here", transform, name));
  }
  if (rows.column(name).type() != type) {
    throw DataError(fmt::format("{}: column '{}' was {} when fitting but is {} here", transform, name, to_string(type),
                                to_string(rows.column(name).type())));
  }
}

// A numeric column the transform was not fitted on would pass through unscaled or unimputed, a
// silent difference between train and test; it is an error instead.
[[noreturn]] void unfitted_column(const Column& column, const std::string& transform) {
  throw DataError(fmt::format("{}: numeric column '{}' was not present when fitting", transform, column.name()));
}

void require_fitted(bool fitted, const std::string& transform) {
  if (!fitted) throw std::logic_error(transform + ": transform() called before fit()");
}

// Non-missing values of a numeric training column; DataError when there are none.
std::vector<double> present_values(const Column& column, const std::string& transform) {
  std::vector<double> values;
  values.reserve(column.size());
  for (double v : column.values()) {
    if (!std::isnan(v)) values.push_back(v);
  }
  if (values.empty()) {
    throw DataError(
        fmt::format("{}: column '{}' is missing in every training row ({} rows); nothing to fit "
                    "it from (drop the column first)",
                    transform, column.name(), column.size()));
  }
  return values;
}

double mean_of(const std::vector<double>& values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

// Base for transforms that map each fitted numeric column x -> (x - shift) / scale, NaN kept.
class AffineTransform : public Transform {
 public:
  Table transform(const Table& rows) const override {
    require_fitted(fitted_, name());
    Table out = rows;
    for (Column& column : out.mutable_columns()) {
      if (column.type() != ColumnType::kNumeric) continue;
      auto it = params_.find(column.name());
      if (it == params_.end()) unfitted_column(column, name());
      std::vector<double> values = column.values();
      const double shift = it->second.first, scale = it->second.second;
      for (double& v : values) v = (v - shift) / scale;  // NaN stays NaN
      column = Column::numeric(column.name(), std::move(values));
    }
    for (const auto& p : params_) require_fitted_column(rows, p.first, ColumnType::kNumeric, name());
    return out;
  }

 protected:
  std::map<std::string, std::pair<double, double>> params_;  // name -> (shift, scale)
  bool fitted_ = false;
};

class StandardScaler final : public AffineTransform {
 public:
  std::string name() const override { return "standard_scaler"; }
  void fit(const Table& train) override {
    params_.clear();
    for (const Column& column : train.columns()) {
      if (column.type() != ColumnType::kNumeric) continue;
      const std::vector<double> values = present_values(column, name());
      const double mean = mean_of(values);
      double squares = 0.0;
      for (double v : values) squares += (v - mean) * (v - mean);
      double sd = std::sqrt(squares / static_cast<double>(values.size()));
      // A constant column (as scikit-learn: scale 1) must not divide by a rounding residue either.
      const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
      if (*lo == *hi || sd == 0.0) sd = 1.0;
      params_[column.name()] = {mean, sd};
    }
    fitted_ = true;
  }
};

// scikit-learn's MinMaxScaler: a constant column gets range 1, so training values map to 0 and a
// test value maps to its offset from the training constant.
class MinMaxScaler final : public AffineTransform {
 public:
  std::string name() const override { return "minmax_scaler"; }
  void fit(const Table& train) override {
    params_.clear();
    for (const Column& column : train.columns()) {
      if (column.type() != ColumnType::kNumeric) continue;
      const std::vector<double> values = present_values(column, name());
      const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
      const double range = *hi - *lo;
      params_[column.name()] = {*lo, range > 0.0 ? range : 1.0};
    }
    fitted_ = true;
  }
};

class Imputer final : public Transform {
 public:
  Imputer(std::string strategy, double constant) : strategy_(std::move(strategy)), constant_(constant) {}
  std::string name() const override { return "imputer(" + strategy_ + ")"; }

  void fit(const Table& train) override {
    fill_.clear();
    for (const Column& column : train.columns()) {
      if (column.type() != ColumnType::kNumeric) continue;
      std::vector<double> values = present_values(column, name());
      double fill = 0.0;
      if (strategy_ == "mean") {
        fill = mean_of(values);
      } else if (strategy_ == "median") {
        // NumPy's median: the middle value, or the mean of the two middle values.
        const std::size_t mid = values.size() / 2;
        std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
        fill = values[mid];
        if (values.size() % 2 == 0) {
          const double below = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
          fill = (below + fill) / 2.0;
        }
      } else if (strategy_ == "constant") {
        fill = constant_;
      }  // "zero": 0
      fill_[column.name()] = fill;
    }
    fitted_ = true;
  }

  Table transform(const Table& rows) const override {
    require_fitted(fitted_, name());
    Table out = rows;
    for (Column& column : out.mutable_columns()) {
      if (column.type() != ColumnType::kNumeric) continue;
      auto it = fill_.find(column.name());
      if (it == fill_.end()) unfitted_column(column, name());
      if (column.missing_count() == 0) continue;
      std::vector<double> values = column.values();
      for (double& v : values) {
        if (std::isnan(v)) v = it->second;
      }
      column = Column::numeric(column.name(), std::move(values));
    }
    for (const auto& f : fill_) require_fitted_column(rows, f.first, ColumnType::kNumeric, name());
    return out;
  }

 private:
  std::string strategy_;
  double constant_;
  std::map<std::string, double> fill_;
  bool fitted_ = false;
};

// Categories seen in the training rows (not merely in the dictionary, which a row subset
// inherits from its parent table), sorted as scikit-learn's encoders sort them.
std::vector<std::string> training_categories(const Column& column) {
  std::vector<bool> seen(column.dictionary().size(), false);
  for (std::int32_t code : column.codes()) {
    if (code >= 0) seen[static_cast<std::size_t>(code)] = true;
  }
  std::vector<std::string> categories;
  for (std::size_t c = 0; c < seen.size(); ++c) {
    if (seen[c]) categories.push_back(column.dictionary()[c]);
  }
  std::sort(categories.begin(), categories.end());
  return categories;
}

// Training category index per row of `column` (its own dictionary may differ), -1 when missing or
// unseen.
std::vector<int> category_index(const Column& column, const std::vector<std::string>& categories) {
  std::vector<int> by_code(column.dictionary().size(), -1);
  for (std::size_t c = 0; c < by_code.size(); ++c) {
    auto it = std::lower_bound(categories.begin(), categories.end(), column.dictionary()[c]);
    if (it != categories.end() && *it == column.dictionary()[c]) by_code[c] = static_cast<int>(it - categories.begin());
  }
  std::vector<int> index(column.size());
  for (std::size_t i = 0; i < index.size(); ++i) {
    const std::int32_t code = column.codes()[i];
    index[i] = code < 0 ? -1 : by_code[static_cast<std::size_t>(code)];
  }
  return index;
}

class CategoryEncoder : public Transform {
 public:
  explicit CategoryEncoder(bool onehot) : onehot_(onehot) {}
  std::string name() const override { return onehot_ ? "onehot_encoder" : "ordinal_encoder"; }

  void fit(const Table& train) override {
    categories_.clear();
    for (const Column& column : train.columns()) {
      if (column.type() == ColumnType::kCategorical) categories_[column.name()] = training_categories(column);
    }
    fitted_ = true;
  }

  Table transform(const Table& rows) const override {
    require_fitted(fitted_, name());
    for (const auto& c : categories_) require_fitted_column(rows, c.first, ColumnType::kCategorical, name());
    std::vector<Column> columns;
    for (const Column& column : rows.columns()) {
      auto it = categories_.find(column.name());
      if (it == categories_.end() || column.type() != ColumnType::kCategorical) {
        columns.push_back(column);
        continue;
      }
      const std::vector<std::string>& categories = it->second;
      const std::vector<int> index = category_index(column, categories);
      if (onehot_) {
        for (std::size_t c = 0; c < categories.size(); ++c) {
          std::vector<double> values(index.size());
          for (std::size_t i = 0; i < index.size(); ++i) values[i] = index[i] == static_cast<int>(c) ? 1.0 : 0.0;
          columns.push_back(Column::numeric(column.name() + "=" + categories[c], std::move(values)));
        }
      } else {
        std::vector<double> values(index.begin(), index.end());
        columns.push_back(Column::numeric(column.name(), std::move(values)));
      }
    }
    Table out = rows;
    out.mutable_columns() = std::move(columns);
    return out;
  }

 private:
  bool onehot_;
  std::map<std::string, std::vector<std::string>> categories_;
  bool fitted_ = false;
};

// Drops text and timestamp columns and also categorical columns that no encoder turned into numbers:
// the point of the step is a table that to_matrix() accepts, so nothing non-numeric may remain.
class DropNonNumeric final : public Transform {
 public:
  explicit DropNonNumeric(bool keep_text) : keep_text_(keep_text) {}
  std::string name() const override { return keep_text_ ? "drop_non_numeric(keep text)" : "drop_non_numeric"; }
  void fit(const Table&) override {}
  Table transform(const Table& rows) const override {
    std::vector<Column> columns;
    for (const Column& column : rows.columns()) {
      if (column.type() == ColumnType::kNumeric || (keep_text_ && column.type() == ColumnType::kText))
        columns.push_back(column);
    }
    Table out = rows;
    out.mutable_columns() = std::move(columns);
    return out;
  }

 private:
  bool keep_text_;
};

// Python's repr(float) (= str(float) since Python 3): the shortest digits that round-trip,
// positional with at least one decimal for decimal exponents in [-4, 16), otherwise scientific
// with an exponent of at least two digits ("1e+16", "1.5e-05").
std::string python_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  const std::string sci(buffer, result.ptr);  // "-d.ddde+XX"
  const std::size_t e = sci.find('e');
  const bool negative = sci[0] == '-';
  std::string digits;
  for (std::size_t i = negative ? 1 : 0; i < e; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  const int exponent = std::stoi(sci.substr(e + 1));
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    } else if (static_cast<std::size_t>(exponent) + 1 >= digits.size()) {
      out += digits + std::string(static_cast<std::size_t>(exponent) + 1 - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<std::size_t>(exponent) + 1) + "." +
             digits.substr(static_cast<std::size_t>(exponent) + 1);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  out += fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out;
}

}  // namespace

std::unique_ptr<Transform> make_imputer(const std::string& strategy, double constant) {
  if (strategy != "mean" && strategy != "median" && strategy != "zero" && strategy != "constant") {
    throw ConfigError(fmt::format("unknown imputer strategy '{}'; valid: mean, median, zero, constant", strategy));
  }
  return std::make_unique<Imputer>(strategy, constant);
}

std::unique_ptr<Transform> make_standard_scaler() { return std::make_unique<StandardScaler>(); }
std::unique_ptr<Transform> make_minmax_scaler() { return std::make_unique<MinMaxScaler>(); }
std::unique_ptr<Transform> make_onehot_encoder() { return std::make_unique<CategoryEncoder>(true); }
std::unique_ptr<Transform> make_ordinal_encoder() { return std::make_unique<CategoryEncoder>(false); }
std::unique_ptr<Transform> make_drop_non_numeric(bool keep_text) { return std::make_unique<DropNonNumeric>(keep_text); }

// Matches the Flow-Bench text release byte for byte: every "<feat> is <val>" is followed by one
// space, the last one included (flowbench-text/*/test.csv: "... cpu_time is 771.8 ,0").
std::vector<std::string> textualise(const Table& table) {
  std::vector<std::string> out(table.num_rows());
  for (const Column& column : table.columns()) {
    const std::string prefix = column.name() + " is ";
    for (std::size_t row = 0; row < out.size(); ++row) {
      std::string& text = out[row];
      text += prefix;
      if (column.is_missing(row)) {
        text += "nan";
      } else {
        switch (column.type()) {
          case ColumnType::kNumeric:
            text += python_float(column.values()[row]);
            break;
          case ColumnType::kCategorical:
            text += column.dictionary()[static_cast<std::size_t>(column.codes()[row])];
            break;
          case ColumnType::kText:
            text += column.texts()[row];
            break;
          // pandas reads epoch seconds as float64: 1659981275 -> "1659981275.0".
          case ColumnType::kTimestamp:
            text += python_float(static_cast<double>(column.timestamps()[row]));
            break;
        }
      }
      text += ' ';
    }
  }
  return out;
}

}  // namespace opsbench
