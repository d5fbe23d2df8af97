#!/usr/bin/env python3
"""PyTorch 1.13 references for activations registered after the original set (softplus, ...).

Usage:
    PYENV_VERSION=system python3 tools/parity/gen_activation_modules.py

Writes tools/parity/activations/cases.json: for each configuration (an activation's registry name and PyTorch keyword
options), inputs across the range (edges where the formula changes, far tails, ties at 0, random values), the float64
outputs and gradients of output.sum(), and PyTorch-float32's outputs of the float32-rounded inputs. ActivationModuleParityTests
builds each module through the registry by name and checks float64 to 1e-10 and float32 to float32 resolution.

Adding an activation: its configurations in CONFIGS, then rerun.
"""
import json
import os

import torch
import torch.nn as nn

# registry name, options (PyTorch keywords), the PyTorch module
CONFIGS = [
    ("softplus", {}, lambda: nn.Softplus()),
    ("softplus", {"beta": 2.0}, lambda: nn.Softplus(beta=2.0)),
    ("softplus", {"beta": 0.5, "threshold": 5.0}, lambda: nn.Softplus(beta=0.5, threshold=5.0)),
]

EDGES = [-1000.0, -80.0, -30.0, -20.5, -3.0, -1e-8, 0.0, 1e-8, 0.5, 2.5, 9.99, 10.0, 10.01, 19.99, 20.0, 20.01, 25.0, 1e4]


def enc(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    g = torch.Generator().manual_seed(2024)
    rand = (torch.randn(64, generator=g, dtype=torch.float64) * 6).tolist()
    x64 = torch.tensor(EDGES + rand, dtype=torch.float64)
    cases = []
    for name, opts, make in CONFIGS:
        m = make()
        x = x64.clone().requires_grad_(True)
        y = m(x)
        y.sum().backward()
        x32 = x64.float()
        y32 = m(x32)
        cases.append({"name": name, "options": opts, "input": enc(x64), "output": enc(y.detach()), "grad": enc(x.grad),
                      "input32": enc(x32), "output32": enc(y32)})
        print(f"{name} {opts}: {len(EDGES) + len(rand)} inputs")
    with open(os.path.join(here, "activations", "cases.json"), "w") as f:
        json.dump({"generator": "tools/parity/gen_activation_modules.py", "torch": torch.__version__, "cases": cases}, f)


if __name__ == "__main__":
    main()
