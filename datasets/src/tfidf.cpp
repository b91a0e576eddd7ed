// TF-IDF transform (see tfidf.h).
#include "opsbench/datasets/tfidf.h"

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "opsbench/core/error.h"

namespace opsbench {
namespace {

class TfidfTransform : public Transform {
 public:
  std::string name() const override { return "tfidf"; }

  void fit(const Table& train) override {
    idf_.clear();
    dropped_.clear();
    const double n = static_cast<double>(train.num_rows());
    for (const Column& column : train.columns()) {
      if (column.type() != ColumnType::kNumeric) continue;
      std::size_t df = 0;
      for (double v : column.values()) {
        if (std::isnan(v)) throw DataError("tfidf: column '" + column.name() + "' has missing values; impute first");
        df += v > 0 ? 1 : 0;
      }
      if (df == 0) {
        dropped_.insert(column.name());
      } else {
        idf_[column.name()] = std::log(n / (static_cast<double>(df) + 1e-8));
      }
    }
    if (idf_.empty()) throw DataError("tfidf: no numeric column has a non-zero value in the training rows");
    fitted_ = true;
  }

  Table transform(const Table& rows) const override {
    if (!fitted_) throw ModelError("tfidf: transform() before fit()");
    Table out;
    std::size_t kept = 0;
    for (const Column& column : rows.columns()) {
      if (column.type() != ColumnType::kNumeric) {
        out.add_column(column);
        continue;
      }
      if (dropped_.count(column.name())) continue;
      auto it = idf_.find(column.name());
      if (it == idf_.end()) throw DataError("tfidf: numeric column '" + column.name() + "' was not seen in fit");
      std::vector<double> v = column.values();
      for (double& x : v) {
        if (std::isnan(x)) throw DataError("tfidf: column '" + column.name() + "' has missing values; impute first");
        x *= it->second;
      }
      out.add_column(Column::numeric(column.name(), std::move(v)));
      ++kept;
    }
    if (kept != idf_.size()) {
      for (const auto& entry : idf_) {
        if (!rows.has_column(entry.first)) throw DataError("tfidf: column '" + entry.first + "' seen in fit is absent");
      }
    }
    if (rows.has_groups()) out.set_groups(rows.groups(), rows.group_names());
    for (const Labels& l : rows.labels()) out.add_labels(l);
    return out;
  }

 private:
  std::map<std::string, double> idf_;  // kept column -> idf
  std::set<std::string> dropped_;      // numeric columns with df = 0 in training
  bool fitted_ = false;
};

}  // namespace

std::unique_ptr<Transform> make_tfidf_transform() { return std::make_unique<TfidfTransform>(); }

}  // namespace opsbench
