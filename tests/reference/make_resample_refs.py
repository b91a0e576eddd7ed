#!/usr/bin/python3
"""Reference values for tests/datasets/resample_test.cpp (imbalanced-learn 0.10, Debian).

Data: the SplitMix64 stream of make_classifier_refs.py with the class labels made imbalanced
(class 1 kept only for every third row, else relabelled 0), so both sides see the same rows.
"""
import imblearn
import numpy as np
from imblearn.combine import SMOTETomek
from imblearn.over_sampling import SMOTE
from imblearn.under_sampling import TomekLinks

from make_classifier_refs import make_data

x, y = make_data(300, 4, 11)
y = np.array([c if c != 1 or i % 3 == 0 else 0 for i, c in enumerate(y)])
print(f"// imbalanced-learn {imblearn.__version__}; class counts {np.bincount(y).tolist()}")
tl = TomekLinks(sampling_strategy="all").fit(x, y)
_, _ = tl.fit_resample(x, y)
removed = sorted(set(range(len(y))) - set(tl.sample_indices_.tolist()))
print("// rows in Tomek links:", removed)
_, ys = SMOTE(random_state=0).fit_resample(x, y)
print("// SMOTE counts:", np.bincount(ys).tolist())
_, yst = SMOTETomek(random_state=0).fit_resample(x, y)
print("// SMOTETomek counts:", np.bincount(yst).tolist())
