#!/usr/bin/python3
"""Peer of bench/bench_classifiers.cpp: scikit-learn 1.2.1 / xgboost 1.7.4 on the same rows.

Prints one line per case: name, median wall seconds over --repeats runs, and the OvR macro AUC on a
20k-row hold-out drawn from the same formula (rows 100000..119999), so quality can be compared at
equal settings. Run from bench/peers/compare_classifiers.sh for identical thread settings.
"""
import argparse
import statistics
import time

import numpy as np
import sklearn
import xgboost
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier

GAMMA = np.uint64(0x9E3779B97F4A7C15)


def mix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def draws(first, n, k):
    r = np.arange(first, first + n, dtype=np.uint64)[:, None]
    c = np.arange(k, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        z = np.uint64(42) + (r * np.uint64(16) + c + np.uint64(1)) * GAMMA
        return (mix(z) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def data(first, n):
    d = draws(first, n, 14)
    x = d[:, :12]
    s = x[:, 0] + 0.7 * x[:, 1] + 0.3 * x[:, 2] * x[:, 3]
    y = (s * 3.0).astype(int) % 6
    noisy = d[:, 12] < 0.2
    y[noisy] = (d[noisy, 13] * 6).astype(int)
    return x, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    x, y = data(0, 100000)
    xt, yt = data(100000, 20000)
    cases = {
        "forest_fit_100": lambda: RandomForestClassifier(100, n_jobs=a.threads, random_state=0),
        "tree_fit": lambda: DecisionTreeClassifier(random_state=0),
        "xgboost_fit_100_depth6": lambda: xgboost.XGBClassifier(
            n_estimators=100, max_depth=6, tree_method="hist", n_jobs=a.threads, random_state=0),
        "logreg_fit": lambda: LogisticRegression(),
    }
    print(f"# scikit-learn {sklearn.__version__}, xgboost {xgboost.__version__}, threads {a.threads}")
    for name, make in cases.items():
        times = []
        for _ in range(a.repeats):
            model = make()
            t0 = time.perf_counter()
            model.fit(x, y)
            times.append(time.perf_counter() - t0)
        auc = roc_auc_score(yt, model.predict_proba(xt), multi_class="ovr", average="macro")
        print(f"{name}: median {statistics.median(times):.3f} s over {a.repeats}, hold-out auc {auc:.4f}")


if __name__ == "__main__":
    main()
