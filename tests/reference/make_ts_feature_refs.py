"""Reference values for tests/datasets/ts_features_test.cpp.

Run with Debian's /usr/bin/python3 (numpy 1.24.2, scipy 1.10.1, scikit-learn 1.2.1). tsfresh is not
packaged in Debian, so its feature_calculators definitions (tsfresh 0.20) are written out below with
numpy/scipy, line for line as tsfresh computes them.
"""
import numpy as np
from scipy import stats
from sklearn.feature_selection import chi2

x = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 0.3, 12, 150], dtype=float)
n = len(x)
m = x.mean()


def autocorr(x, lag):
    y1, y2 = x[: len(x) - lag], x[lag:]
    return np.sum((y1 - x.mean()) * (y2 - x.mean())) / ((len(x) - lag) * np.var(x))


def longest(b):
    best = run = 0
    for v in b:
        run = run + 1 if v else 0
        best = max(best, run)
    return best


def peaks(x, s):
    xr = x[s:-s]
    res = None
    for i in range(1, s + 1):
        r = (xr > np.roll(x, i)[s:-s]) & (xr > np.roll(x, -i)[s:-s])
        res = r if res is None else res & r
    return int(np.sum(res))


def benford(x):
    d = np.array([int(str(np.format_float_scientific(i))[:1]) for i in np.abs(np.nan_to_num(x))])
    dist = np.array([(d == k).mean() for k in range(1, 10)])
    ben = np.array([np.log10(1 + 1 / k) for k in range(1, 10)])
    return np.corrcoef(ben, dist)[0, 1]


lr = stats.linregress(np.arange(n), x)
refs = {
    "mean": m, "median": np.median(x), "std": np.std(x), "variance": np.var(x), "min": x.min(), "max": x.max(),
    "quantile_0.1": np.quantile(x, 0.1), "quantile_0.25": np.quantile(x, 0.25),
    "quantile_0.75": np.quantile(x, 0.75), "quantile_0.9": np.quantile(x, 0.9),
    "skewness": stats.skew(x, bias=False), "kurtosis": stats.kurtosis(x, bias=False),
    "abs_energy": np.dot(x, x), "sum_of_changes": np.sum(np.abs(np.diff(x))),
    "mean_abs_change": np.mean(np.abs(np.diff(x))), "mean_change": (x[-1] - x[0]) / (n - 1),
    "count_above_mean": np.sum(x > m), "count_below_mean": np.sum(x < m),
    "longest_strike_above_mean": longest(x > m), "longest_strike_below_mean": longest(x < m),
    "autocorrelation_lag1": autocorr(x, 1), "autocorrelation_lag2": autocorr(x, 2),
    "autocorrelation_lag5": autocorr(x, 5), "autocorrelation_lag10": autocorr(x, 10),
    "linear_trend_slope": lr.slope, "linear_trend_intercept": lr.intercept,
    "number_peaks_1": peaks(x, 1), "number_peaks_3": peaks(x, 3),
    "variation_coefficient": np.std(x) / m,
    "first_location_of_minimum": np.argmin(x) / n, "last_location_of_minimum": 1.0 - np.argmin(x[::-1]) / n,
    "first_location_of_maximum": np.argmax(x) / n, "last_location_of_maximum": 1.0 - np.argmax(x[::-1]) / n,
    "benford_correlation": benford(x),
}
for k, v in refs.items():
    print(f'{{"{k}", {float(v)!r}}},')

X = np.array([[0.0, 1.0, 0.5, 0.0], [0.2, 0.0, 0.5, 0.0], [1.0, 0.3, 0.5, 0.0], [0.7, 0.9, 0.1, 0.0],
              [0.1, 0.6, 1.0, 0.0]])
y = np.array([0, 1, 2, 1, 0])
print("chi2", [float(v) for v in chi2(X, y)[0]])
