#!/usr/bin/python3
"""Reference values for tests/baselines/neighbour_detectors_test.cpp.

LOF and kNN distances: Debian's scikit-learn 1.2.1 (sklearn.neighbors). HBOS and ECOD: PyOD 1.0 is
not packaged here, so its formulas (pyod/models/hbos.py static bins, pyod/models/ecod.py) are
written out in NumPy below, ECOD in opsbench's inductive form (see baselines/include/.../ecod.h).

The inputs are formulas, so the C++ test rebuilds them without a data file:
  train[i][j] = sin(0.7 i + 1.3 j) * (1 + j) + (3 if i % 7 == 0 else 0),  i < 30, j < 3,
  rows 20..24 replaced by copies of row 3 (six identical rows: k both below and above the copies);
  test[i][j]  = cos(0.45 i + 0.8 j) * (2 - 0.5 j) + 0.25 i * (j == 1),   i < 8.
Run: /usr/bin/python3 tests/reference/make_neighbour_refs.py
"""
import numpy as np
import scipy.stats
import sklearn
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors


def train_rows():
    x = np.array([[np.sin(0.7 * i + 1.3 * j) * (1 + j) + (3.0 if i % 7 == 0 else 0.0) for j in range(3)]
                  for i in range(30)])
    x[20:25] = x[3]
    return x


def test_rows():
    return np.array([[np.cos(0.45 * i + 0.8 * j) * (2 - 0.5 * j) + (0.25 * i if j == 1 else 0.0) for j in range(3)]
                     for i in range(8)])


def show(name, values):
    print(f"  // {name}")
    print("  {" + ", ".join(repr(float(v)) for v in values) + "}")


def hbos(train, test, n_bins=10, alpha=0.1, tol=0.5):
    out = np.zeros((test.shape[0], train.shape[1]))
    for i in range(train.shape[1]):
        hist, edges = np.histogram(train[:, i], bins=n_bins, density=True)
        inds = np.digitize(test[:, i], edges, right=False)
        width = edges[1] - edges[0]
        for j in range(test.shape[0]):
            if inds[j] == 0:
                out[j, i] = hist[0] if edges[0] - test[j, i] <= width * tol else hist.min()
            elif inds[j] == n_bins + 1:
                out[j, i] = hist[-1] if test[j, i] - edges[-1] <= width * tol else hist.min()
            else:
                out[j, i] = hist[inds[j] - 1]
    return -np.log2(out + alpha).sum(axis=1)


def ecod(train, test):
    n = train.shape[0]
    skew = np.sign(scipy.stats.skew(train, axis=0))
    at_most = np.array([[np.sum(train[:, j] <= v) for j, v in enumerate(row)] for row in test])
    at_least = np.array([[np.sum(train[:, j] >= v) for j, v in enumerate(row)] for row in test])
    u_l = -np.log((at_most + 1) / (n + 1))
    u_r = -np.log((at_least + 1) / (n + 1))
    u_s = u_l * -1 * np.sign(skew - 1) + u_r * np.sign(skew + 1)
    return np.maximum(u_s, (u_l + u_r) / 2).sum(axis=1)


def main():
    print(f"// scikit-learn {sklearn.__version__}")
    train, test = train_rows(), test_rows()
    for k in (3, 8):
        lof = LocalOutlierFactor(n_neighbors=k).fit(train)
        show(f"LOF outlier mode k={k}: -negative_outlier_factor_", -lof.negative_outlier_factor_)
        nov = LocalOutlierFactor(n_neighbors=k, novelty=True).fit(train)
        show(f"LOF novelty k={k}: -score_samples(test)", -nov.score_samples(test))
    dist, _ = NearestNeighbors(n_neighbors=5).fit(train).kneighbors(test)
    show("kNN k=5 largest", dist[:, -1])
    show("kNN k=5 mean", dist.mean(axis=1))
    show("HBOS (PyOD formulas) n_bins=10 alpha=0.1 tol=0.5", hbos(train, test))
    show("ECOD (PyOD formulas, inductive)", ecod(train, test))


if __name__ == "__main__":
    main()
