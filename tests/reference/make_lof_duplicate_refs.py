#!/usr/bin/python3
"""Reference values for the duplicate-row LOF/kNN test in tests/baselines/lof_test.cpp.

Debian's scikit-learn 1.2.1 (sklearn.neighbors, default algorithm). The input is a formula, so the
C++ test rebuilds it without a data file: ten distinct points, point g repeated 1 + g % 4 times
(1 to 4 copies, 23 rows), rows in the order g = 0,1,...,9, 1,2,3,5,6,7,9, 2,3,6,7, 3,7:
  point[g] = (3 sin(1.7 g + 0.3), 2 cos(2.3 g) + 0.1 g)
  test[i]  = (2.5 cos(0.9 i), 1.5 sin(1.1 i) + 0.2),  i < 6
Distances between different points are all distinct, so the only ties are between copies of one
point (distance 0), and every choice among those gives the same LOF: the values do not depend on
how scikit-learn breaks ties. (Where different points tie exactly at the k-th distance, scikit-learn's
choice depends on its heap layout and algorithm; lof_test.cpp checks those cases against LOF
computed from its definition with brute-force lists instead.)
Run: /usr/bin/python3 tests/reference/make_lof_duplicate_refs.py
"""
import numpy as np
import sklearn
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors


def points():
    return np.array([[3 * np.sin(1.7 * g + 0.3), 2 * np.cos(2.3 * g) + 0.1 * g] for g in range(10)])


def order():
    out = []
    for copy in range(4):
        out += [g for g in range(10) if 1 + g % 4 > copy]
    return out


def train_rows():
    return points()[order()]


def test_rows():
    return np.array([[2.5 * np.cos(0.9 * i), 1.5 * np.sin(1.1 * i) + 0.2] for i in range(6)])


def show(name, values):
    print(f"  // {name}")
    print("  {" + ", ".join(repr(float(v)) for v in values) + "}")


def main():
    print(f"scikit-learn {sklearn.__version__}; rows in order of point: {order()}")
    train, test = train_rows(), test_rows()
    p = points()
    d = np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(-1))[np.triu_indices(10, 1)]
    assert len(np.unique(d)) == len(d), "distances between distinct points must differ"
    for k in (2, 5, 12):
        lof = LocalOutlierFactor(n_neighbors=k).fit(train)
        show(f"outlier mode k={k}: -negative_outlier_factor_", -lof.negative_outlier_factor_)
        nov = LocalOutlierFactor(n_neighbors=k, novelty=True).fit(train)
        show(f"novelty k={k}: -score_samples(test)", -nov.score_samples(test))
        brute = LocalOutlierFactor(n_neighbors=k, algorithm="brute").fit(train)
        assert np.allclose(brute.negative_outlier_factor_, lof.negative_outlier_factor_, rtol=1e-12)
    dist, _ = NearestNeighbors(n_neighbors=5).fit(train).kneighbors(test)
    show("kNN k=5 largest", dist[:, -1])
    show("kNN k=5 mean", dist.mean(axis=1))


if __name__ == "__main__":
    main()
