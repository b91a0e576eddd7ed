// Feature transforms, each fitted on training rows only and then applied to any rows.
//
// The usual sequence before a numeric method: Imputer (numeric missing values) -> OneHotEncoder or
// OrdinalEncoder (categorical columns to numbers) -> StandardScaler or MinMaxScaler. Text and
// timestamp columns are dropped by the encoders' to-numeric step unless a method consumes them.
// transform() never looks at labels and never refits. A column seen in fit but absent in transform,
// or whose type changed, is a DataError naming it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "opsbench/core/table.h"

namespace opsbench {

class Transform {
 public:
  virtual ~Transform() = default;
  virtual std::string name() const = 0;
  virtual void fit(const Table& train) = 0;
  virtual Table transform(const Table& rows) const = 0;
};

// Numeric missing values: "mean" | "median" | "zero" | "constant" (with `constant`).
// A column that is missing in every training row is a DataError (nothing to impute from).
std::unique_ptr<Transform> make_imputer(const std::string& strategy, double constant = 0.0);
// z = (x - mean) / std (population std; a constant column gets std 1, as scikit-learn does).
std::unique_ptr<Transform> make_standard_scaler();
// (x - min) / (max - min) into [0, 1] on train. A constant column maps its training value to 0 and
// other values to their distance from it (scikit-learn's MinMaxScaler). Test values may leave [0,1].
std::unique_ptr<Transform> make_minmax_scaler();
// Categorical -> one 0/1 column per training category ("col=value"); unseen and missing -> all 0.
std::unique_ptr<Transform> make_onehot_encoder();
// Categorical -> training category index (sorted by category); unseen and missing -> -1.
std::unique_ptr<Transform> make_ordinal_encoder();
// Drops timestamp and any categorical columns left unencoded, and text columns unless keep_text, so
// that numeric methods see numbers only (Table::to_matrix() skips the text columns kept).
std::unique_ptr<Transform> make_drop_non_numeric(bool keep_text = false);

// Flow-Bench LLM template: "<feat> is <val> <feat> is <val> ... " over the feature columns in order,
// numbers as Python's str(float) writes them, missing values as "nan", and a space after every value
// (the last included), byte for byte as the released flowbench-text files.
std::vector<std::string> textualise(const Table& table);

}  // namespace opsbench
