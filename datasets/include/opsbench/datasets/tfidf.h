// TF-IDF weighting of an event-count matrix, as loglizer's FeatureExtractor(term_weighting='tf-idf').
//
// fit(train): N = training rows; for every numeric column j, df_j = training rows with a value > 0
// and idf_j = log(N / (df_j + 1e-8)) (natural log, loglizer's formula). Columns with df_j = 0 are
// dropped, as loglizer keeps only the event keys seen in training. transform(rows): every kept
// numeric column is multiplied by its idf; non-numeric columns pass through untouched. A column
// that occurs in every training row gets idf log(N/(N+1e-8)) ~ -1e-8/N: practically zero, as in
// loglizer. No zero-mean step here: follow with scale = "standard" or use a centring method.
//
// Missing values must be imputed first (a NaN in fit or transform is a DataError naming the
// column). A kept column absent from the rows given to transform() is a DataError.
#pragma once

#include <memory>

#include "opsbench/datasets/transforms.h"

namespace opsbench {

std::unique_ptr<Transform> make_tfidf_transform();

}  // namespace opsbench
