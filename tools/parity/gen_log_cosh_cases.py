#!/usr/bin/env python3
"""PyTorch reference cases for Kindling's log_cosh_loss (not a torch.nn loss).

Usage:
    PYENV_VERSION=system python3 tools/parity/gen_log_cosh_cases.py

Writes
- tools/parity/cases/log_cosh_loss.jsonl: contract cases (float32 inputs, float64 truth, torch's float32 answer),
  read by LossParityTests, LossModuleParityTests and the registry's gradient checks like every other loss;
- tools/parity/log_cosh/float64.json: float64 inputs with float64 values and gradients, which LogCoshLossTests
  checks to 1e-10 relative (and the float32 path to float32 resolution).

The reference is written in torch ops in a stable form that differs from Kindling's (so it checks it):
log cosh d = log1p(2·sinh²(d/2)) for |d| <= 1 (no cancellation near 0) and |d| + softplus(-2|d|) - log 2 above
(no cosh overflow). Before writing, the float64 reference is checked against mpmath at 50 digits on every value.
"""
import json
import math
import os
import sys

import mpmath
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_loss_cases as g  # noqa: E402  (the contract's case writer: add, sweep, single, REASONS, ...)

LN2 = math.log(2.0)


def log_cosh_loss(input, target, reduction="mean"):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    d = input - target
    a = d.abs()
    small_d = torch.where(a <= 1, d, torch.zeros_like(d))  # keeps sinh finite in the branch not taken
    small = torch.log1p(2 * torch.sinh(small_d / 2) ** 2)
    large_a = torch.where(a > 1, a, torch.ones_like(a))
    large = large_a + F.softplus(-2 * large_a) - LN2
    loss = torch.where(a <= 1, small, large)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def check_against_mpmath(d):
    """The float64 reference against log(cosh(d)) to 50 significant digits, element by element."""
    got = log_cosh_loss(d, torch.zeros_like(d), "none")
    for di, gi in zip(d.reshape(-1).tolist(), got.reshape(-1).tolist()):
        # 50 digits beyond the ones 1 + d²/2 spends on the 1
        mpmath.mp.dps = 50 + (2 * int(-math.log10(abs(di))) if 0 < abs(di) < 1 else 0)
        exact = float(mpmath.log(mpmath.cosh(mpmath.mpf(di))))
        assert abs(gi - exact) <= 4e-16 * abs(exact) + 1e-300, (di, gi, exact)


# The contract's loss lookup knows torch.nn.functional and its own extras; this loss is ours.
_loss_fn = g.loss_fn
g.loss_fn = lambda name: log_cosh_loss if name == "log_cosh_loss" else _loss_fn(name)

L = "log_cosh_loss"


def mk(shape, scale=2.0, ties=False):
    def make():
        x = g.randn(*shape, scale=scale)
        t = g.randn(*shape, scale=scale)
        if ties:
            fx, ft = x.view(-1), t.view(-1)
            ft[::3] = fx[::3]  # d = 0: value 0, gradient 0
            if fx.numel() > 5:
                ft[1] = fx[1] + 1.0  # |d| = 1 exactly: where the two forms meet
                ft[4] = fx[4] - 1.0
        return {"input": x, "target": t}, {}
    return make


def fixed(d):
    def make():
        x = g.f32(d)
        return {"input": x, "target": torch.zeros_like(x)}, {}
    return make


# |d| across the whole range: tiny (d²/2 underflows in float32 at the end), both sides of 1, large, huge.
EDGE = [0.0, 1e-30, -1e-8, 3e-4, -0.01, 0.5, -0.999, 1.0, -1.0, 1.0000001, 1.5, -3.0, 10.0, -20.0, 50.0, 1e4, -3e38]


def gen_contract():
    g.family("log_cosh_loss")
    g.single("logcosh-default", L, mk((5, 4)))
    g.sweep("logcosh", L, mk((5, 4)))
    g.sweep("logcosh-ties", L, mk((4, 3), ties=True))
    g.sweep("logcosh-3d", L, mk((2, 3, 4)))
    g.sweep("logcosh-1d", L, mk((9,)))
    g.sweep("logcosh-scalar", L, mk(()))
    g.sweep("logcosh-small", L, mk((6, 5), scale=1e-3))
    g.sweep("logcosh-outliers", L, mk((6, 5), scale=60.0))
    g.sweep("logcosh-edges", L, fixed(EDGE))
    g.sweep("logcosh-large", L, mk((40, 50)), reds=("mean",))
    g.seed("logcosh-err")
    for red in g.R3:
        g.add(f"logcosh-err-n1-vs-n-{red}", L, {"input": g.randn(5, 1), "target": g.randn(5)}, {"reduction": red},
              kindling_rejects="Kindling rejects (N,1) vs (N) broadcast")
    g.add("logcosh-err-shape-mismatch", L, {"input": g.randn(4, 3), "target": g.randn(4, 2)}, {})
    g.add("logcosh-err-reduction-avg", L, {"input": g.randn(4, 3), "target": g.randn(4, 3)}, {"reduction": "avg"})


def enc64(t):
    return {"shape": list(t.shape), "dtype": "float64", "data": [g.enc_num(float(v)) for v in t.reshape(-1).tolist()]}


def gen_float64():
    """float64 inputs, values and gradients (of loss.sum()) for every reduction."""
    out = []
    gen = torch.Generator().manual_seed(1913)
    sets = {
        "random": (torch.randn(7, 5, generator=gen, dtype=torch.float64) * 2, torch.randn(7, 5, generator=gen, dtype=torch.float64) * 2),
        "small": (torch.randn(4, 6, generator=gen, dtype=torch.float64) * 1e-4, torch.zeros(4, 6, dtype=torch.float64)),
        "outliers": (torch.randn(3, 8, generator=gen, dtype=torch.float64) * 100, torch.randn(3, 8, generator=gen, dtype=torch.float64)),
        "edges": (torch.tensor(EDGE[:-1] + [-1e300, 1e-300, 2.0 ** -30], dtype=torch.float64), None),
    }
    for name, (x, t) in sets.items():
        t = torch.zeros_like(x) if t is None else t
        check_against_mpmath(x - t)
        for red in g.R3:
            xi = x.clone().requires_grad_(True)
            ti = t.clone().requires_grad_(True)
            y = log_cosh_loss(xi, ti, red)
            y.sum().backward()
            out.append({"id": f"{name}-{red}", "reduction": red, "input": enc64(x), "target": enc64(t),
                        "loss": enc64(y.detach()), "grad_input": enc64(xi.grad), "grad_target": enc64(ti.grad)})
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    torch.set_num_threads(1)
    check_against_mpmath(torch.tensor(EDGE, dtype=torch.float64))
    gen_contract()
    path = os.path.join(here, "cases", "log_cosh_loss.jsonl")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for c in g.FILES["log_cosh_loss"]:
            f.write(json.dumps(c, allow_nan=False, separators=(", ", ": ")) + "\n")
    print(f"{path}: {len(g.FILES['log_cosh_loss'])} cases")
    os.makedirs(os.path.join(here, "log_cosh"), exist_ok=True)
    path = os.path.join(here, "log_cosh", "float64.json")
    cases = gen_float64()
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump({"generator": "tools/parity/gen_log_cosh_cases.py", "torch": torch.__version__, "cases": cases}, f, allow_nan=False)
        f.write("\n")
    print(f"{path}: {len(cases)} float64 cases")


if __name__ == "__main__":
    main()
