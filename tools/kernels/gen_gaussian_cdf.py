"""Chebyshev coefficients for Kindling's Gaussian CDF Φ(x) = ½·erfc(−x/√2) (src/Kindling/Kernels/GaussianCdf.cs),
fitted in float64 against scipy.special (erf and the scaled erfcx = exp(z²)·erfc(z)):

  |z| ≤ 1 (z = x/√2):  erf(z) = z · A(t),            t = z² ∈ [0, 1],   A(t) = Σ a_k T_k(2t − 1)
  1 < |z| ≤ 10:        erfc(|z|) = exp(−z²)·u·B(u),  u = 1/|z| ∈ [0.1, 1),  B(u) = Σ b_k T_k((2u − 1.1)/0.9)

    PYENV_VERSION=system python3 tools/kernels/gen_gaussian_cdf.py   # prints the C# arrays and the fit errors
"""
import numpy as np
from numpy.polynomial import chebyshev as C
from scipy.special import erf, erfc, erfcx

def fit(f, a, b, deg, n=8000):
    k = np.arange(n); t = np.cos(np.pi * (k + 0.5) / n); x = 0.5 * (a + b) + 0.5 * (b - a) * t
    return C.chebfit(t, f(x), deg)

a = fit(lambda t: np.where(t == 0, 2 / np.sqrt(np.pi), erf(np.sqrt(t)) / np.sqrt(np.maximum(t, 1e-300))), 0.0, 1.0, 12)
b = fit(lambda u: erfcx(1 / u) / u, 0.1, 1.0, 22)
t = np.linspace(0, 1, 400001); z = np.sqrt(t)
ea = np.max(np.abs(z * C.chebval(2 * t - 1, a) - erf(z)) / np.maximum(erf(z), 1e-300))
u = np.linspace(0.1, 1, 400001); zz = 1 / u
eb = np.max(np.abs(np.exp(-zz * zz) * u * C.chebval((2 * u - 1.1) / 0.9, b) - erfc(zz)) / erfc(zz))
fmt = lambda c: ",\n        ".join(", ".join(f"{v:.17e}" for v in c[i:i + 3]) for i in range(0, len(c), 3))
print(f"// max relative error: erf on |z| <= 1 {ea:.2e}, erfc on 1 < z <= 10 {eb:.2e}")
print(f"    private static readonly double[] A =\n    [\n        {fmt(a)},\n    ];")
print(f"    private static readonly double[] B =\n    [\n        {fmt(b)},\n    ];")

# Reference values for tests/Kindling.Tests/GaussianCdfTests.cs (tools/kernels/gaussian_cdf_cases.json).
import json, os
from scipy.special import ndtr
xs = np.concatenate([np.linspace(-14, 14, 2801), [0.0, 1e-300, -1e-300, 1e-8, -1e-8, 1.4142135623730951, -1.4142135623730951, 37.5, -37.5]])
json.dump({"x": xs.tolist(), "erf": erf(xs).tolist(), "phi": ndtr(xs).tolist()},
          open(os.path.join(os.path.dirname(__file__), "gaussian_cdf_cases.json"), "w"))
