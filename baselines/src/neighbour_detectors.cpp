// Registration of the neighbour- and histogram-based detectors (see methods.h).
#include <memory>

#include "methods.h"
#include "opsbench/baselines/ecod.h"
#include "opsbench/baselines/hbos.h"
#include "opsbench/baselines/knn_detector.h"
#include "opsbench/baselines/lof.h"

namespace opsbench {

void add_neighbour_detectors(Registry& registry) {
  MethodEntry lof;
  lof.name = "lof";
  lof.kind = MethodKind::kDetector;
  lof.description =
      "Local Outlier Factor: mean ratio of the neighbours' local reachability density to the row's own "
      "(exact kNN), higher = more anomalous";
  lof.reference =
      "Breunig et al. LOF: identifying density-based local outliers. SIGMOD 2000; behaviour of "
      "scikit-learn 1.2.1 sklearn.neighbors.LocalOutlierFactor (score = -score_samples)";
  lof.options = LofOptions::declarations();
  lof.make_detector = [](const Options& options) -> std::unique_ptr<Detector> {
    return std::make_unique<Lof>(LofOptions::from(options));
  };
  registry.add(std::move(lof));

  MethodEntry knn;
  knn.name = "knn";
  knn.kind = MethodKind::kDetector;
  knn.description = "k-nearest-neighbour distance (k-th, mean or median) to the training rows";
  knn.reference = "Ramaswamy, Rastogi, Shim. SIGMOD 2000; Angiulli and Pizzuti, PKDD 2002; PyOD KNN";
  knn.options = KnnDetectorOptions::declarations();
  knn.make_detector = [](const Options& options) -> std::unique_ptr<Detector> {
    return std::make_unique<KnnDetector>(KnnDetectorOptions::from(options));
  };
  registry.add(std::move(knn));

  MethodEntry hbos;
  hbos.name = "hbos";
  hbos.kind = MethodKind::kDetector;
  hbos.description = "Histogram-based outlier score: sum of per-feature -log2(density + alpha)";
  hbos.reference = "Goldstein and Dengel. HBOS. KI 2012; PyOD 1.0 HBOS (static bins)";
  hbos.options = HbosOptions::declarations();
  hbos.make_detector = [](const Options& options) -> std::unique_ptr<Detector> {
    return std::make_unique<Hbos>(HbosOptions::from(options));
  };
  registry.add(std::move(hbos));

  MethodEntry ecod;
  ecod.name = "ecod";
  ecod.kind = MethodKind::kDetector;
  ecod.description = "Empirical-CDF outlier detection: summed per-feature tail probabilities (-log), skew-aware";
  ecod.reference = "Li et al. ECOD. IEEE TKDE 2022; PyOD 1.0 ECOD, scoring made inductive";
  ecod.options = Ecod::declarations();
  ecod.make_detector = [](const Options& /*options*/) -> std::unique_ptr<Detector> {
    return std::make_unique<Ecod>();
  };
  registry.add(std::move(ecod));
}

}  // namespace opsbench
