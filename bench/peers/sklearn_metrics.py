#!/usr/bin/python3
"""Peer timings for bench/bench_metrics.cpp: scikit-learn's ranking metrics on the same kind of input
(1M rows, 10% positives, scores rounded to 0.1 steps so that ties are many). Medians of --repeats runs.

Usage: /usr/bin/python3 bench/peers/sklearn_metrics.py [--repeats 5]
"""
import argparse
import statistics
import time

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(3)
    n = 1_000_000
    y = (rng.integers(0, 10, n) == 0).astype(int)
    s = np.round(rng.integers(0, 100000, n) / 10.0) + 50.0 * y
    print(f"{'roc_auc_score 1M':<44s} median {median_ms(lambda: roc_auc_score(y, s), args.repeats):9.1f} ms")
    print(f"{'average_precision_score 1M':<44s} median {median_ms(lambda: average_precision_score(y, s), args.repeats):9.1f} ms")


if __name__ == "__main__":
    main()
