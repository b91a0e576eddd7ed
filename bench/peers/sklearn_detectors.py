#!/usr/bin/python3
"""Side-by-side peer timings for bench/bench_detectors.cpp with scikit-learn (Debian 1.2.1).

Same shapes as the C++ benchmarks (standard normal data):
  IsolationForest score 20k x 2000; IsolationForest fit and score 100k x 20; PCA fit/score 100k x 20.
Prints the median of --repeats runs (after one warm-up run) for each, in seconds.
IsolationForest runs with n_jobs=1 (scikit-learn's default; its scoring is single-threaded anyway).
PCA uses NumPy's BLAS, whose threads follow OMP_NUM_THREADS / OPENBLAS_NUM_THREADS: compare with the
C++ benchmark rows whose `threads` equals that count, and only under identical OPENBLAS_CORETYPE.

The PCA peer mirrors opsbench's pca detector: StandardScaler, PCA(n_components=0.95), squared
reconstruction error summed over features.

Usage: /usr/bin/python3 bench/peers/sklearn_detectors.py [--repeats 5] [--only iforest|pca]
"""
import argparse
import os
import statistics
import time

import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler


def median_seconds(fn, repeats):
    fn()  # warm-up, excluded
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def report(name, result):
    median, low, high = result
    print(f"{name:<44s} median {median * 1000:9.1f} ms   (min {low * 1000:.1f}, max {high * 1000:.1f})", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", choices=["iforest", "pca"])
    args = parser.parse_args()

    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OMP_WAIT_POLICY"):
        print(f"  {var}={os.environ.get(var, 'unset')}")
    rng = np.random.default_rng(42)
    small = rng.standard_normal((100_000, 20))

    if args.only in (None, "iforest"):
        wide = rng.standard_normal((20_000, 2000))
        fitted_wide = IsolationForest(random_state=1).fit(wide)
        report("IsolationForest score 20000 x 2000", median_seconds(lambda: fitted_wide.score_samples(wide), args.repeats))
        report("IsolationForest fit 100000 x 20", median_seconds(lambda: IsolationForest(random_state=1).fit(small), args.repeats))
        fitted = IsolationForest(random_state=1).fit(small)
        report("IsolationForest score 100000 x 20", median_seconds(lambda: fitted.score_samples(small), args.repeats))
        report("IsolationForest fit+score 100000 x 20",
               median_seconds(lambda: IsolationForest(random_state=1).fit(small).score_samples(small), args.repeats))

    if args.only in (None, "pca"):
        def pca_fit():
            scaler = StandardScaler().fit(small)
            return scaler, PCA(n_components=0.95).fit(scaler.transform(small))

        scaler, pca = pca_fit()

        def pca_score():
            z = scaler.transform(small)
            residual = z - pca.inverse_transform(pca.transform(z))
            return (residual * residual).sum(axis=1)

        report("PCA fit 100000 x 20", median_seconds(pca_fit, args.repeats))
        report("PCA score 100000 x 20", median_seconds(pca_score, args.repeats))
        report("PCA fit+score 100000 x 20", median_seconds(lambda: (pca_fit(), pca_score()), args.repeats))


if __name__ == "__main__":
    main()
