#!/usr/bin/python3
"""Side-by-side peer timings for bench/bench_neighbours.cpp with scikit-learn (Debian 1.2.1).

Same shapes and work as the C++ benchmarks (standard normal data):
  LocalOutlierFactor(n_neighbors=20).fit on 50k x 20 (outlier mode: kNN of every training row + LOF);
  LocalOutlierFactor(n_neighbors=20, novelty=True).score_samples of 10k new rows (fitted on 50k x 20);
  NearestNeighbors(n_neighbors=5).kneighbors of 10k rows against 50k x 20 (the knn detector's work).
scikit-learn picks brute force for 20 features (its `auto` rule: more than 15 features) and runs
its ArgKmin reduction on OMP_NUM_THREADS threads; compare with the opsbench row of the same thread count.
Prints the median of --repeats runs (after one warm-up run), in ms.

Usage: /usr/bin/python3 bench/peers/sklearn_neighbours.py [--repeats 5]
"""
import argparse
import os
import statistics
import time

import numpy as np
import sklearn
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors


def median_seconds(fn, repeats):
    fn()
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
    args = parser.parse_args()
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OMP_WAIT_POLICY"):
        print(f"  {var}={os.environ.get(var, 'unset')}")
    rng = np.random.default_rng(42)
    x = rng.standard_normal((50_000, 20))
    q = rng.standard_normal((10_000, 20))
    report("LOF fit 50000 x 20 k=20", median_seconds(lambda: LocalOutlierFactor(n_neighbors=20).fit(x), args.repeats))
    novelty = LocalOutlierFactor(n_neighbors=20, novelty=True).fit(x)
    report("LOF novelty score 10000 vs 50000 x 20", median_seconds(lambda: novelty.score_samples(q), args.repeats))
    nn = NearestNeighbors(n_neighbors=5).fit(x)
    report("kNN k=5 10000 vs 50000 x 20", median_seconds(lambda: nn.kneighbors(q), args.repeats))


if __name__ == "__main__":
    main()
