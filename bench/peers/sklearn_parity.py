#!/usr/bin/python3
"""Correctness parity of opsbench's iforest, lof, pca and knn with scikit-learn 1.2.1 on real data.

For each dataset, `build/<dir>/bench/sklearn_parity_export` writes the exact train/test matrices
that `opsbench run SUITE` gives its methods in repetitions 0..SEEDS-1 (same reader options, split
seeds and [preprocess]); both sides then see the same rows:
  - scikit-learn fits the peer on train.csv and scores test.csv (higher = more anomalous);
  - `opsbench eval SPEC --train train.csv --test test.csv --scale none` does the same.
The script prints the ROC-AUC of both sides averaged over the seeds and their difference (the issue
asks for |delta| <= 0.01), plus the largest per-seed difference. iforest draws its trees from each
side's own generator (seed = repetition), so only its mean is comparable; lof, pca and knn have no
randomness, so their per-seed AUCs should agree to rounding.

Peers (same parameters as the suites' specs):
  iforest:n_estimators=100,max_samples=256  IsolationForest(n_estimators=100, max_samples=256), -score_samples
  lof:n_neighbors=20 (novelty)              LocalOutlierFactor(n_neighbors=20, novelty=True), -score_samples
  pca:variance=0.95 (standardize)           StandardScaler -> PCA(n_components=0.95); squared reconstruction error
  pca:variance=0.95,standardize=false       PCA(n_components=0.95) on the raw counts (HDFS only)
  knn:n_neighbors=5                         NearestNeighbors(n_neighbors=5).kneighbors: distance to the 5th

Datasets: Flow-Bench 1000 Genome (suites/flowbench-ad.toml: nine paper features, zero-imputed,
standardised, split by run 80/10/10) and HDFS sessions (suites/hdfs-unsupervised.toml: event
counts, 2.93% abnormal, 50/50 stratified).

Usage: /usr/bin/python3 bench/peers/sklearn_parity.py [--build build/release] [--data /work/shared/data]
                                                      [--seeds 10] [--threads 1] [--only 1000genome|hdfs]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.preprocessing import StandardScaler

DATASETS = [("suites/flowbench-ad.toml", "1000genome"), ("suites/hdfs-unsupervised.toml", "hdfs")]


def pca_error(xtr, xte, standardize):
    if standardize:
        scaler = StandardScaler().fit(xtr)
        xtr, xte = scaler.transform(xtr), scaler.transform(xte)
    pca = PCA(n_components=0.95, svd_solver="full").fit(xtr)
    return ((xte - pca.inverse_transform(pca.transform(xte))) ** 2).sum(axis=1)


def peers(dataset):
    out = {
        "iforest:n_estimators=100,max_samples=256": lambda xtr, xte, seed: -IsolationForest(
            n_estimators=100, max_samples=256, random_state=seed).fit(xtr).score_samples(xte),
        "lof:n_neighbors=20": lambda xtr, xte, seed: -LocalOutlierFactor(
            n_neighbors=20, novelty=True).fit(xtr).score_samples(xte),
        "pca:variance=0.95": lambda xtr, xte, seed: pca_error(xtr, xte, True),
        "knn:n_neighbors=5": lambda xtr, xte, seed: NearestNeighbors(n_neighbors=5).fit(xtr).kneighbors(xte)[0][:, -1],
    }
    if dataset == "hdfs":
        out["pca:variance=0.95,standardize=false"] = lambda xtr, xte, seed: pca_error(xtr, xte, False)
    return out


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return data[:, :-1], data[:, -1].astype(int)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--data", default=os.environ.get("OPSBENCH_DATA", "/work/shared/data"))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}; {a.seeds} seeds; opsbench {a.build}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for suite, dataset in DATASETS:
            if a.only and a.only != dataset:
                continue
            subprocess.run([os.path.join(a.build, "bench", "sklearn_parity_export"), suite, a.data, tmp, dataset,
                            str(a.seeds)], check=True, capture_output=True, text=True)
            ours, theirs, secs = {}, {}, {}
            for seed in range(a.seeds):
                train = os.path.join(tmp, dataset, f"rep{seed}", "train.csv")
                test = os.path.join(tmp, dataset, f"rep{seed}", "test.csv")
                xtr, _ = load(train)
                xte, yte = load(test)
                for spec, peer in peers(dataset).items():
                    start = time.perf_counter()
                    theirs.setdefault(spec, []).append(roc_auc_score(yte, peer(xtr, xte, seed)))
                    middle = time.perf_counter()
                    out = subprocess.run(
                        [os.path.join(a.build, "opsbench"), "eval", spec, "--train", train, "--test", test,
                         "--label", "label", "--scale", "none", "--seed", str(seed), "--threads", str(a.threads),
                         "--metrics", "roc_auc", "--json"],
                        check=True, capture_output=True, text=True).stdout
                    ours.setdefault(spec, []).append(json.loads(out)["metrics"]["roc_auc"])
                    t = secs.setdefault(spec, [0.0, 0.0])
                    t[0] += middle - start
                    t[1] += time.perf_counter() - middle
                print(f"  {dataset} rep {seed}: train {xtr.shape[0]} x {xtr.shape[1]}, test {xte.shape[0]} "
                      f"({int(yte.sum())} anomalous)", flush=True)
            for spec in ours:
                deltas = [o - t for o, t in zip(ours[spec], theirs[spec])]
                rows.append((dataset, spec, statistics.mean(ours[spec]), statistics.mean(theirs[spec]),
                             statistics.mean(deltas), max(abs(d) for d in deltas), secs[spec]))
    print(f"\n{'dataset':<11s} {'method':<40s} {'opsbench':>9s} {'sklearn':>9s} {'delta':>8s} {'max|seed d|':>11s}"
          f" {'sklearn s':>9s} {'opsbench s':>10s}")
    for dataset, spec, ours, theirs, delta, worst, (t_peer, t_ours) in rows:
        print(f"{dataset:<11s} {spec:<40s} {ours:9.4f} {theirs:9.4f} {delta:+8.4f} {worst:11.4f}"
              f" {t_peer:9.1f} {t_ours:10.1f}")
    print("(seconds: totals over the seeds; opsbench's include process start and CSV parsing)")


if __name__ == "__main__":
    main()
