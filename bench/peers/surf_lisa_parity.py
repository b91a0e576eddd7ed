#!/usr/bin/python3
"""Correctness parity on real data: opsbench's classifiers against scikit-learn 1.2.1 / python
xgboost 1.7.4 on the SURF Lisa end-state file, same rows, same splits, same parameters.

For each seed the script draws a stratified 80/20 split (scikit-learn's train_test_split), writes
train/test CSVs with the four submit-time features and the label, fits the peer, and runs
`opsbench eval SPEC --task classify` on the same files. It prints the one-vs-rest macro ROC-AUC of
both sides, averaged over the seeds, and the difference (the issue asks for |delta| <= 0.01).
No resampling (SMOTE-Tomek changes the rows each side sees).

Usage: /usr/bin/python3 bench/peers/surf_lisa_parity.py [--build build/release] [--data ../shared/data]
                                                         [--seeds 5] [--threads 1]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

import numpy as np
import xgboost
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

FEATURES = ["ReqCPUS", "submit_hour_of_day", "submit_day_of_week", "submit_day_of_month"]
LABEL = "state_encoded"


def peers(seed, threads):
    return {
        "logreg:C=1,max_iter=1000": LogisticRegression(C=1.0, max_iter=1000),
        "tree": DecisionTreeClassifier(random_state=seed),
        "forest:n_estimators=100": RandomForestClassifier(n_estimators=100, n_jobs=threads, random_state=seed),
        "xgboost:n_estimators=100,max_depth=6,learning_rate=0.3,tree_method=hist": xgboost.XGBClassifier(
            n_estimators=100, max_depth=6, learning_rate=0.3, tree_method="hist", n_jobs=threads, random_state=seed),
    }


def write_csv(path, x, y):
    with open(path, "w") as f:
        f.write(",".join(FEATURES + [LABEL]) + "\n")
        for row, label in zip(x, y):
            f.write(",".join(str(int(v)) for v in row) + f",{int(label)}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--data", default=os.environ.get("OPSBENCH_DATA", "../shared/data"))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    path = os.path.join(a.data, "slurm/surf-lisa/pred_input_job_6col_10k.csv")
    raw = np.genfromtxt(path, delimiter=",", names=True)
    x = np.column_stack([raw[c] for c in FEATURES])
    y = raw[LABEL].astype(int)
    ours, theirs = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(a.seeds):
            xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=seed)
            train, test = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
            write_csv(train, xtr, ytr)
            write_csv(test, xte, yte)
            for spec, model in peers(seed, a.threads).items():
                model.fit(xtr, ytr)
                theirs.setdefault(spec, []).append(
                    roc_auc_score(yte, model.predict_proba(xte), multi_class="ovr", average="macro"))
                out = subprocess.run(
                    [os.path.join(a.build, "opsbench"), "eval", spec, "--task", "classify", "--train", train,
                     "--test", test, "--label", LABEL, "--seed", str(seed), "--threads", str(a.threads),
                     "--metrics", "roc_auc_ovr_macro", "--json"],
                    check=True, capture_output=True, text=True).stdout
                ours.setdefault(spec, []).append(json.loads(out)["metrics"]["roc_auc_ovr_macro"])
    print(f"SURF Lisa end state, 4 submit-time features, stratified 80/20, {a.seeds} seeds, OvR macro AUC")
    print(f"{'method':<72s} {'opsbench':>9s} {'peer':>9s} {'delta':>8s}")
    for spec in ours:
        m_ours, m_theirs = statistics.mean(ours[spec]), statistics.mean(theirs[spec])
        print(f"{spec:<72s} {m_ours:9.4f} {m_theirs:9.4f} {m_ours - m_theirs:+8.4f}")


if __name__ == "__main__":
    main()
