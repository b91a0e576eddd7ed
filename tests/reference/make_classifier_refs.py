#!/usr/bin/python3
"""Reference values for tests/baselines/classifiers_test.cpp.

Run with Debian's /usr/bin/python3 (scikit-learn 1.2.1, xgboost 1.7.4). The data come from the same
SplitMix64 stream as the C++ test (make_data), so both sides see identical numbers.
"""
import numpy as np
import sklearn
import xgboost
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

M64 = (1 << 64) - 1


class SplitMix:
    def __init__(self, seed):
        self.x = seed

    def next(self):
        self.x = (self.x + 0x9E3779B97F4A7C15) & M64
        z = self.x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53


def make_data(n, d, seed):
    """Three classes from a band rule on x0 + 0.5 x1, 10% of labels redrawn."""
    rng = SplitMix(seed)
    x = np.zeros((n, d))
    y = np.zeros(n, dtype=int)
    for i in range(n):
        for j in range(d):
            x[i, j] = rng.uniform()
        s = x[i, 0] + 0.5 * x[i, 1]
        y[i] = int(s * 2.0) % 3
        if rng.uniform() < 0.1:
            y[i] = rng.next() % 3
    return x, y


def show(name, values):
    print(f"// {name}")
    print("{" + ", ".join(f"{v:.10g}" for v in values) + "}")


def main():
    print(f"// scikit-learn {sklearn.__version__}, xgboost {xgboost.__version__}")
    x, y = make_data(300, 4, 11)
    xt, _ = make_data(8, 4, 12)
    tree = DecisionTreeClassifier(max_depth=4, min_samples_leaf=5, random_state=0).fit(x, y)
    print("// tree nodes", tree.tree_.node_count, "depth", tree.get_depth())
    show("tree proba (8 test rows x 3, row-major)", tree.predict_proba(xt).ravel())
    tree_e = DecisionTreeClassifier(criterion="entropy", max_depth=3, random_state=0).fit(x, y)
    print("// entropy tree nodes", tree_e.tree_.node_count)
    show("entropy tree proba", tree_e.predict_proba(xt).ravel())
    lr = LogisticRegression(C=0.5, tol=1e-10, max_iter=10000).fit(x, y)
    show("logreg proba C=0.5", lr.predict_proba(xt).ravel())
    lrb = LogisticRegression(C=2.0, tol=1e-10, max_iter=10000, class_weight="balanced").fit(x[:200], (y[:200] == 1).astype(int))
    show("logreg binary balanced proba C=2", lrb.predict_proba(xt)[:, 1])
    xgbm = xgboost.XGBClassifier(n_estimators=20, max_depth=3, learning_rate=0.3, tree_method="hist", n_jobs=1, random_state=0).fit(x, y)
    show("xgboost proba (20 rounds depth 3 hist)", xgbm.predict_proba(xt).ravel())


if __name__ == "__main__":
    main()
