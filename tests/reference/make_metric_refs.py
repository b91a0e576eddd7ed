#!/usr/bin/python3
"""Reference values for tests/core/metrics_test.cpp and tests/core/threshold_test.cpp.

Run with the Debian interpreter (scikit-learn 1.2.1, NumPy 1.24.2, SciPy 1.10.1):
    /usr/bin/python3 tests/reference/make_metric_refs.py
and paste the printed values into the tests. The inputs below are the same literals the tests use.
"""
import itertools

import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn import metrics
from sklearn.ensemble import IsolationForest

print(f"# scikit-learn {sklearn.__version__}, numpy {np.__version__}, scipy {scipy.__version__}")

# Binary scores with ties across classes (groups at 0.8, 0.5, 0.3 mix both labels).
y = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1])
s = np.array([0.1, 0.5, 0.5, 0.8, 0.8, 0.3, 0.3, 0.9, 0.2, 0.05, 0.3, 0.5])
print("ties roc_auc", repr(metrics.roc_auc_score(y, s)))
print("ties average_precision", repr(metrics.average_precision_score(y, s)))
print("all tied roc_auc", repr(metrics.roc_auc_score(y, np.zeros(len(y)))))
print("all tied average_precision", repr(metrics.average_precision_score(y, np.zeros(len(y)))))

# Hard predictions of the same rows.
p = np.array([0, 1, 1, 1, 1, 0, 0, 1, 0, 0, 1, 1])
print("hard accuracy", repr(metrics.accuracy_score(y, p)))
print("hard precision", repr(metrics.precision_score(y, p)))
print("hard recall", repr(metrics.recall_score(y, p)))
print("hard f1", repr(metrics.f1_score(y, p)))
print("hard roc_auc", repr(metrics.roc_auc_score(y, p)))
print("hard average_precision", repr(metrics.average_precision_score(y, p)))
print("hard f1_macro", repr(metrics.f1_score(y, p, average="macro")))
print("hard f1_weighted", repr(metrics.f1_score(y, p, average="weighted")))
print("hard precision_macro", repr(metrics.precision_score(y, p, average="macro")))
print("hard recall_macro", repr(metrics.recall_score(y, p, average="macro")))

# Zero division: nothing predicted positive.
zero = np.zeros(len(y), dtype=int)
print("zero precision", metrics.precision_score(y, zero, zero_division=0),
      "recall", metrics.recall_score(y, zero, zero_division=0),
      "f1", metrics.f1_score(y, zero, zero_division=0))

# Multiclass, class 3 never predicted, class 2 never true.
yt = np.array([0, 1, 2, 0, 1, 3, 3, 0, 1, 3, 0, 0])
yp = np.array([0, 2, 2, 1, 1, 0, 1, 0, 2, 2, 0, 1])
for avg in ("macro", "weighted"):
    for name, fn in (("precision", metrics.precision_score), ("recall", metrics.recall_score),
                     ("f1", metrics.f1_score)):
        print(f"multi {name}_{avg}", repr(fn(yt, yp, average=avg, zero_division=0)))
print("multi confusion", metrics.confusion_matrix(yt, yp, labels=[0, 1, 2, 3]).tolist())
print("multi accuracy", repr(metrics.accuracy_score(yt, yp)))
# Labels 0,1,3 only (class 2 absent from both): macro averages over present classes only.
yt2 = np.array([0, 1, 3, 3, 1, 0])
yp2 = np.array([0, 1, 3, 0, 0, 0])
print("absent-class f1_macro", repr(metrics.f1_score(yt2, yp2, average="macro")))

# One-vs-rest ROC-AUC, 3 classes with ties, rows summing to 1.
y3 = np.array([0, 1, 2, 2, 1, 0, 0, 2, 1, 0])
proba = np.array([
    [0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.3, 0.3, 0.4], [0.3, 0.4, 0.3],
    [0.5, 0.2, 0.3], [0.3, 0.4, 0.3], [0.2, 0.2, 0.6], [0.4, 0.4, 0.2], [0.25, 0.25, 0.5]])
print("ovr macro", repr(metrics.roc_auc_score(y3, proba, multi_class="ovr", average="macro")))
print("ovr weighted", repr(metrics.roc_auc_score(y3, proba, multi_class="ovr", average="weighted")))


# precision@k, tie-free expected value: brute force over every order of the tied rows.
def expected_precision_at_k(y_true, scores, k):
    order_values = []
    idx = list(range(len(y_true)))
    tie_keys = sorted(set(scores), reverse=True)
    groups = [[i for i in idx if scores[i] == v] for v in tie_keys]
    total, count = 0.0, 0
    for perms in itertools.product(*[list(itertools.permutations(g)) for g in groups]):
        ranking = [i for perm in perms for i in perm]
        total += sum(y_true[i] for i in ranking[:k]) / k
        count += 1
    return total / count


yk = [1, 0, 1, 0, 1, 0, 0, 1]
sk = [0.9, 0.7, 0.7, 0.7, 0.4, 0.4, 0.1, 0.7]
for k in (1, 2, 3, 4, 5, 6):
    print("precision_at_k k=%d" % k, repr(expected_precision_at_k(yk, sk, k)))

# Student t two-sided critical values. scipy.stats.t.ppf (SciPy 1.10.1) is only good to ~1e-9 here
# (5.84090929975643 at level 0.99, df 3), so the references are solved with mpmath at 40 digits.
import mpmath as mp  # noqa: E402  (Debian python3-mpmath)
mp.mp.dps = 40
for level, df in ((0.95, 1), (0.95, 2), (0.95, 4), (0.95, 9), (0.95, 30), (0.95, 100), (0.95, 1000),
                  (0.95, 1000000), (0.99, 3), (0.90, 7), (0.999, 1)):
    tail = lambda t: mp.betainc(df / 2, 0.5, 0, df / (df + t * t), regularized=True) / 2 - (1 - level) / 2
    print("t level=%g df=%d" % (level, df), mp.nstr(mp.findroot(tail, 2.0), 20),
          "scipy", repr(stats.t.ppf((1 + level) / 2, df)))
v = np.array([0.81, 0.84, 0.79, 0.86, 0.83])
print("mean_ci", repr(v.mean()), repr(stats.t.ppf(0.975, 4) * v.std(ddof=1) / np.sqrt(5)))

# Percentiles (np.percentile, method linear) and the IsolationForest offset_ they reproduce.
train = np.array([0.3, 0.1, 0.7, 0.2, 0.9, 0.4, 0.6, 0.5, 0.8, 1.3, 0.15])
for q in (0, 10, 37.5, 50, 90, 95, 100):
    print("percentile q=%g" % q, repr(np.percentile(train, q)))
rng = np.random.RandomState(0)
X = rng.normal(size=(200, 3))
forest = IsolationForest(contamination=0.05, random_state=0).fit(X)
anomaly = -forest.score_samples(X)
print("iforest check: -offset_ == percentile(anomaly, 95):", -forest.offset_, np.percentile(anomaly, 95),
      "predicted outliers", int((forest.predict(X) == -1).sum()), "== score > t:",
      int((anomaly > np.percentile(anomaly, 95)).sum()))

# best-F1 threshold brute force over every cut between distinct scores.
vs = np.array([0.9, 0.8, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
vl = np.array([1, 1, 0, 1, 0, 1, 0, 0, 1, 0])
cuts = sorted(set(vs), reverse=True)
best = max(((metrics.f1_score(vl, (vs >= c).astype(int)), c) for c in cuts), key=lambda t: t[0])
print("best f1", repr(best[0]), "lowest included score", best[1])

# Transforms (tests/datasets/transforms_test.cpp): fitted on train, applied to test.
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler  # noqa: E402

train = np.array([[1.0, 5.0], [2.0, np.nan], [4.0, 5.0], [np.nan, 5.0], [10.0, 5.0]])
test = np.array([[3.0, 7.0], [np.nan, np.nan], [-2.0, 5.0]])
for strategy in ("mean", "median"):
    imp = SimpleImputer(strategy=strategy).fit(train)
    print("imputer", strategy, "statistics", imp.statistics_.tolist(), "test", imp.transform(test).tolist())
std = StandardScaler().fit(train)
print("standard mean", std.mean_.tolist(), "scale", std.scale_.tolist(), "test", std.transform(test).tolist())
mm = MinMaxScaler().fit(train)
print("minmax test", mm.transform(test).tolist())
cat_train = np.array([["b"], ["a"], ["c"], ["a"]], dtype=object)
cat_test = np.array([["c"], ["z"], ["a"]], dtype=object)
oh = OneHotEncoder(handle_unknown="ignore").fit(cat_train)
print("onehot categories", oh.categories_[0].tolist(), "test", oh.transform(cat_test).toarray().tolist())
od = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1).fit(cat_train)
print("ordinal test", od.transform(cat_test).tolist())
# Python str(float) forms textualise must reproduce.
print("str(float)", [str(v) for v in (6.0, 1006.0, 771.8, 1014254291.0, 0.1, 1e16, 1.5e-05, 0.0001,
                                      123456789012345.6, -0.0, 2.5e-7, 1e22, 0.30000000000000004)])
