"""Reference values for `kindling compare`'s statistics (src/Kindling.Cli/CompareStatistics.cs, Calibration.cs).

Run: PYENV_VERSION=system python3 tools/parity/gen_compare_stats.py
Writes tools/parity/stats/compare_stats.json, which CompareStatisticsTests reads (CI has no Python).
scipy 1.10 (binomtest, t, ttest_rel, ttest_1samp, betainc, gammaln) and scikit-learn 1.2 (log_loss, brier_score_loss)
are the oracles; ECE and the row-vote counts are computed here independently in NumPy.
"""
import json
import os

import numpy as np
from scipy import special, stats
from sklearn.metrics import brier_score_loss, log_loss

rng = np.random.default_rng(20261208)
out = {"scipy": __import__("scipy").__version__, "sklearn": __import__("sklearn").__version__}

# Exact binomial (McNemar's exact test on b favourable of n discordant pairs), p = 1/2, two-sided.
pairs = [(0, 1), (1, 1), (0, 5), (1, 10), (3, 10), (5, 10), (4, 9), (17, 40), (12, 13), (30, 100), (480, 1000), (460, 1000), (2000, 4100), (0, 1200)]
out["binomial"] = [{"k": k, "n": n, "p": float(stats.binomtest(k, n, 0.5).pvalue)} for k, n in pairs]

# Student t: quantiles and upper tails.
out["t_quantile"] = [{"p": p, "df": df, "q": float(stats.t.ppf(p, df))}
                     for df in (1, 2, 3, 4, 9, 29, 100, 1000) for p in (0.9, 0.975, 0.995)]
out["t_sf"] = [{"t": t, "df": df, "sf": float(stats.t.sf(t, df))}
               for df in (1, 2, 4, 9, 30, 500) for t in (0.0, 0.3, 1.0, 2.5, 6.0, 40.0)]
out["betainc"] = [{"a": a, "b": b, "x": x, "v": float(special.betainc(a, b, x))}
                  for a, b in ((0.5, 0.5), (2.0, 0.5), (15.0, 0.5), (1.0, 3.0), (50.0, 40.0)) for x in (0.01, 0.3, 0.5, 0.93)]
out["gammaln"] = [{"x": x, "v": float(special.gammaln(x))} for x in (0.1, 0.5, 1.0, 1.5, 7.3, 101.0, 2049.0)]


def interval(v):
    v = np.asarray(v, dtype=float)
    m, s = v.mean(), v.std(ddof=1)
    lo, hi = stats.t.interval(0.95, len(v) - 1, loc=m, scale=s / np.sqrt(len(v)))
    return {"values": v.tolist(), "mean": float(m), "std": float(s), "lo": float(lo), "hi": float(hi)}


out["intervals"] = [interval(v) for v in (
    [0.969, 0.972, 0.961, 0.975, 0.966],
    [0.5, 0.7],
    rng.normal(3.0, 2.0, 10).tolist(),
    rng.normal(-1e-3, 1e-4, 30).tolist())]

# Paired t over seeds.
out["paired_t"] = []
for n in (3, 5, 8):
    a = rng.normal(0.95, 0.01, n)
    b = a + rng.normal(0.004, 0.006, n)
    r = stats.ttest_rel(a, b)
    d = a - b
    lo, hi = stats.t.interval(0.95, n - 1, loc=d.mean(), scale=d.std(ddof=1) / np.sqrt(n))
    out["paired_t"].append({"a": a.tolist(), "b": b.tolist(), "t": float(r.statistic), "p": float(r.pvalue), "lo": float(lo), "hi": float(hi)})

# Row vote test: S seeds × N rows of right/wrong for two losses; rows vote for the loss right in more seeds.
out["row_vote"] = []
for s, n, pa, pb in ((1, 200, 0.9, 0.85), (5, 300, 0.93, 0.93), (5, 359, 0.97, 0.95), (3, 120, 0.6, 0.75)):
    hard = rng.random(n)  # shared row difficulty: the same rows tend to be missed by every seed
    a = (rng.random((s, n)) * 0.5 + hard * 0.5 < pa + 0.25 * (pa - 0.5)).tolist()
    b = (rng.random((s, n)) * 0.5 + hard * 0.5 < pb + 0.25 * (pb - 0.5)).tolist()
    k = np.asarray(a, int).sum(0) - np.asarray(b, int).sum(0)
    fa, fb = int((k > 0).sum()), int((k < 0).sum())
    out["row_vote"].append({"a": a, "b": b, "favour_a": fa, "favour_b": fb,
                            "difference": float(k.sum() / (n * s)), "p": float(stats.binomtest(fa, fa + fb, 0.5).pvalue) if fa + fb else 1.0})

# Regression row test: d_i = mean over seeds of e_a^2 - e_b^2 (and |e|), one-sample t over rows.
out["row_error"] = []
for s, n in ((1, 50), (4, 200)):
    ea = rng.standard_t(3, (s, n)) * 2.0
    eb = ea * 0.9 + rng.normal(0, 0.5, (s, n))
    d2 = (ea ** 2 - eb ** 2).mean(0)
    d1 = (np.abs(ea) - np.abs(eb)).mean(0)
    out["row_error"].append({"a": ea.tolist(), "b": eb.tolist(),
                             "sq_difference": float(d2.mean()), "sq_p": float(stats.ttest_1samp(d2, 0).pvalue),
                             "abs_difference": float(d1.mean()), "abs_p": float(stats.ttest_1samp(d1, 0).pvalue)})

# Nadeau–Bengio corrected resampled t (no scipy function: the formula, with scipy's t distribution).
out["corrected_t"] = []
for d, n_test, n_train in (([0.01, 0.004, 0.012, -0.002, 0.008], 360, 1293), ([0.03, 0.02, 0.025], 100, 400)):
    d = np.asarray(d)
    se = np.sqrt((1 / len(d) + n_test / n_train) * d.var(ddof=1))
    tt = d.mean() / se
    h = stats.t.ppf(0.975, len(d) - 1) * se
    out["corrected_t"].append({"d": d.tolist(), "n_test": n_test, "n_train": n_train, "p": float(2 * stats.t.sf(abs(tt), len(d) - 1)),
                               "lo": float(d.mean() - h), "hi": float(d.mean() + h)})


# Holm step-down.
def holm(p):
    p = np.asarray(p, float)
    order = np.argsort(p, kind="stable")
    adj = np.empty_like(p)
    run = 0.0
    for r, i in enumerate(order):
        run = max(run, min(1.0, (len(p) - r) * p[i]))
        adj[i] = run
    return adj


out["holm"] = [{"p": p, "adjusted": holm(p).tolist()} for p in ([0.01, 0.04, 0.03], [0.2, 0.001, 0.9, 0.04], [0.5])]


# Calibration: log-loss and Brier (scikit-learn), ECE with 15 equal-width bins of the top-class probability (NumPy).
def ece(prob, y, bins=15):
    conf = prob.max(1)
    top = prob.argmax(1)
    b = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    e = 0.0
    for j in range(bins):
        m = b == j
        if m.any():
            e += m.sum() / len(y) * abs((top[m] == y[m]).mean() - conf[m].mean())
    return e


out["calibration"] = []
for n, k, temp in ((400, 10, 2.0), (250, 3, 0.7), (300, 2, 1.5)):
    logits = rng.normal(0, 2.0, (n, k))
    prob = np.exp(logits / temp)
    prob /= prob.sum(1, keepdims=True)
    # Labels drawn from a sharpened version of the probabilities, so the model is miscalibrated in a known direction.
    sharp = prob ** 2 / (prob ** 2).sum(1, keepdims=True)
    y = np.array([rng.choice(k, p=row) for row in sharp])
    case = {"k": k, "probs": prob.ravel().tolist(), "y": y.tolist(),
            "log_loss": float(log_loss(y, prob, labels=list(range(k)))),
            "brier": float(((prob - np.eye(k)[y]) ** 2).sum(1).mean()),
            "ece": float(ece(prob, y))}
    if k == 2:
        case["sklearn_binary_brier"] = float(brier_score_loss(y, prob[:, 1]))
    out["calibration"].append(case)

os.makedirs(os.path.join(os.path.dirname(__file__), "stats"), exist_ok=True)
path = os.path.join(os.path.dirname(__file__), "stats", "compare_stats.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
