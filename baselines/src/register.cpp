// The explicit list of baselines/ methods (see register.h).
#include "opsbench/baselines/register.h"

#include <memory>

#include "opsbench/baselines/isolation_forest.h"
#include "opsbench/baselines/pca_detector.h"
#include "opsbench/core/registry.h"
#include "methods.h"

namespace opsbench {

void register_baselines(Registry& registry) {
  MethodEntry iforest;
  iforest.name = "iforest";
  iforest.kind = MethodKind::kDetector;
  iforest.description =
      "IsolationForest: random isolation trees on row subsamples; score 2^(-E[h(x)]/c(psi)), "
      "higher = more anomalous";
  iforest.reference =
      "Liu, Ting, Zhou. Isolation Forest. ICDM 2008; behaviour of scikit-learn 1.2.1 "
      "sklearn.ensemble.IsolationForest (score = -score_samples)";
  iforest.options = IsolationForestOptions::declarations();
  iforest.make_detector = [](const Options& options) -> std::unique_ptr<Detector> {
    return std::make_unique<IsolationForest>(IsolationForestOptions::from(options));
  };
  registry.add(std::move(iforest));

  MethodEntry pca;
  pca.name = "pca";
  pca.kind = MethodKind::kDetector;
  pca.description =
      "PCA reconstruction error on standardised data: squared distance to the span of the leading "
      "principal components";
  pca.reference =
      "Shyu et al. A novel anomaly detection scheme based on principal component classifier, ICDM "
      "2003 workshop; the PCA baseline of Flow-Bench (Jin et al.)";
  pca.options = PcaDetectorOptions::declarations();
  pca.make_detector = [](const Options& options) -> std::unique_ptr<Detector> {
    return std::make_unique<PcaDetector>(PcaDetectorOptions::from(options));
  };
  registry.add(std::move(pca));

  add_neighbour_detectors(registry);
  add_classifiers(registry);
}

}  // namespace opsbench
