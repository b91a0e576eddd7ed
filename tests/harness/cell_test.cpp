// Preparing a repetition's parts: splits that leave a part unusable fail with a clear message.
#include <catch2/catch.hpp>

#include <set>

#include "opsbench/core/error.h"
#include "opsbench/harness/cell.h"

using namespace opsbench;

namespace {

// n rows in groups of 10; the rows listed in `anomalous` get label 1.
Dataset make_dataset(std::size_t n, const std::vector<std::size_t>& anomalous, bool with_groups = true) {
  Dataset d;
  std::vector<double> x(n);
  std::vector<int> groups(n);
  std::vector<std::string> group_names;
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<double>(i % 13);
    groups[i] = static_cast<int>(i / 10);
  }
  for (std::size_t g = 0; g * 10 < n; ++g) group_names.push_back("run" + std::to_string(g));
  d.table.add_column(Column::numeric("x", x));
  if (with_groups) d.table.set_groups(groups, group_names);
  Labels labels;
  labels.name = "label";
  labels.classes = {"normal", "anomalous"};
  labels.values.assign(n, 0);
  for (std::size_t i : anomalous) labels.values[i] = 1;
  d.table.add_labels(labels);
  return d;
}

}  // namespace

TEST_CASE("a test part with a single class is a data error naming the dataset", "[harness][cell]") {
  const Dataset d = make_dataset(100, {});
  SplitSpec split;
  split.kind = SplitKind::kRandom;
  CHECK_THROWS_WITH(prepare_split(d, "jobs", Task::kDetect, split, PreprocessSpec{}, 1),
                    Catch::Contains("dataset 'jobs'") && Catch::Contains("single class") &&
                        Catch::Contains("normal: "));
}

TEST_CASE("a group split needs groups", "[harness][cell]") {
  const Dataset d = make_dataset(100, {1, 2, 3, 55, 56, 90}, false);
  SplitSpec split;
  split.kind = SplitKind::kGroup;
  CHECK_THROWS_WITH(prepare_split(d, "jobs", Task::kDetect, split, PreprocessSpec{}, 1),
                    Catch::Contains("has no groups"));
}

TEST_CASE("group split keeps groups whole and fits preprocessing on train only", "[harness][cell]") {
  std::vector<std::size_t> anomalous;
  for (std::size_t i = 0; i < 200; i += 7) anomalous.push_back(i);
  const Dataset d = make_dataset(200, anomalous);
  SplitSpec split;
  split.kind = SplitKind::kGroup;
  PreprocessSpec pre;
  pre.scale = "standard";
  const PreparedSplit parts = prepare_split(d, "jobs", Task::kDetect, split, pre, 3);
  CHECK(parts.train.num_rows() + parts.validation.num_rows() + parts.test.num_rows() == 200);
  std::set<int> train_groups(parts.train.groups().begin(), parts.train.groups().end());
  for (int g : parts.test.groups()) CHECK(train_groups.count(g) == 0);
  // Standardised with training statistics: the training part has mean 0, the test part need not.
  double sum = 0;
  for (double v : parts.train.column("x").values()) sum += v;
  CHECK(sum / parts.train.num_rows() == Approx(0).margin(1e-12));
}

TEST_CASE("train contamination control keeps the asked share of anomalies", "[harness][cell]") {
  std::vector<std::size_t> anomalous;
  for (std::size_t i = 0; i < 400; i += 3) anomalous.push_back(i);
  const Dataset d = make_dataset(400, anomalous);
  SplitSpec split;
  split.kind = SplitKind::kStratified;
  split.train_contamination = 0.05;
  const PreparedSplit parts = prepare_split(d, "jobs", Task::kDetect, split, PreprocessSpec{}, 9);
  const auto counts = parts.train.label().class_counts();
  const double share = static_cast<double>(counts[1]) / parts.train.num_rows();
  CHECK(share <= 0.05);
  CHECK(share > 0.03);
}
