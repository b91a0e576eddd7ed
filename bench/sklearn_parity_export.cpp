// Writes the exact train/test matrices that `opsbench run SUITE` hands its methods, one pair of CSV
// files per (dataset, repetition), so bench/peers/sklearn_parity.py can feed the same rows to
// scikit-learn and to `opsbench eval`. Datasets are read, split and preprocessed exactly as the
// suite runner does it (same reader options, derived seeds, split, [preprocess]).
//
// Usage: sklearn_parity_export SUITE DATA_ROOT OUT_DIR DATASET REPETITIONS
//   writes OUT_DIR/DATASET/rep<R>/{train,test}.csv for R < REPETITIONS: the feature columns by name
//   (float64 printed with 17 significant digits, so they read back bit for bit) and `label` (0/1).
// Repetitions beyond the suite's own count use the same seed derivation (rep 5, 6, ...).
//
// Not a Google Benchmark: this file defines its own main(), so the linker does not take
// benchmark_main's (a static archive member is only pulled in for an undefined symbol).
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "opsbench/core/context.h"
#include "opsbench/core/options.h"
#include "opsbench/core/registry.h"
#include "opsbench/harness/cell.h"
#include "opsbench/harness/register_all.h"
#include "opsbench/harness/suite.h"

namespace {

using namespace opsbench;

void write_part(const Table& part, const std::string& path) {
  const Matrix x = part.to_matrix();
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  bool first = true;
  for (const auto& column : part.columns()) {
    if (column.type() == ColumnType::kText) continue;
    out << (first ? "" : ",") << column.name();
    first = false;
  }
  out << ",label\n";
  const auto& labels = part.label().values;
  for (std::size_t r = 0; r < x.rows; ++r) {
    for (std::size_t c = 0; c < x.cols; ++c) out << fmt::format("{:.17g},", x(r, c));
    out << labels[r] << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: sklearn_parity_export SUITE DATA_ROOT OUT_DIR DATASET REPETITIONS\n";
    return 2;
  }
  try {
    const Registry& registry = builtin_registry();
    const Suite suite = load_suite(argv[1], registry);
    const std::string dataset_name = argv[4];
    const int repetitions = std::stoi(argv[5]);
    for (const auto& spec : suite.datasets) {
      if (spec.name != dataset_name) continue;
      const ReaderEntry& reader = registry.reader(spec.reader);
      const Options reader_options = resolve(reader.options, spec.options, "reader " + reader.name);
      ReadContext rc;
      rc.data_root = argv[2];
      rc.base_dir = suite.base_dir;
      rc.seed = derive_seed(suite.seed, suite.name, spec.name, "data", 0);
      const Dataset data = reader.read(reader_options, rc);
      SplitSpec split = suite.split;
      if (spec.train_contamination >= 0) split.train_contamination = spec.train_contamination;
      for (int rep = 0; rep < repetitions; ++rep) {
        const PreparedSplit parts =
            prepare_split(data, spec.name, suite.task, split, suite.preprocess,
                          derive_seed(suite.seed, suite.name, spec.name, "split", rep), suite.resample);
        const auto dir = std::filesystem::path(argv[3]) / spec.name / fmt::format("rep{}", rep);
        std::filesystem::create_directories(dir);
        write_part(parts.train, (dir / "train.csv").string());
        write_part(parts.test, (dir / "test.csv").string());
        std::cout << fmt::format("{}: train {} x {}, test {} rows\n", dir.string(), parts.train.num_rows(),
                                 parts.train.num_columns(), parts.test.num_rows());
      }
      return 0;
    }
    std::cerr << "sklearn_parity_export: suite " << argv[1] << " has no dataset named " << dataset_name << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "sklearn_parity_export: " << e.what() << "\n";
    return 1;
  }
}
