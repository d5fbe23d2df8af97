#!/usr/bin/env python3
"""PyTorch 1.13 references for the optimizers added after gen_training.py (Adamax, NAdam, ...).

Usage:
    PYENV_VERSION=system python3 tools/parity/gen_optimizers.py

Writes
- tools/parity/optim/steps.json: per-step parameters of each configuration below on a fixed gradient sequence, in
  float32 and float64 (checked by OptimizerStepParityTests: float64 to 1e-10, float32 to a few float32 ulps of
  PyTorch-float32 and within 2x its distance from float64). The gradients need no file: element i of parameter j at
  step t is ((k * 2654435761 + 12345) mod 2^32) / 2^32 - 0.5 with k = (t * 7919 + j) * 100003 + i, times the step's
  scale, computed in float64 and cast to the dtype; every 7th element is 0. Parameter 0 has 4100 elements (past one of
  Kindling's 4096-element blocks), parameter 1 is (3, 7); step 2 gives parameter 1 no gradient (skipped, as in PyTorch).
- tools/parity/training/trajectories_optimizers.json: the three models of gen_training.py trained with each
  configuration, in gen_training.py's format (checked by TrainingParityTests with the other trajectories).

Adding an optimizer: its configurations in CONFIGS, then rerun.
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_training as gt  # noqa: E402

# name, PyTorch factory, the registry's options (Kindling builds the optimizer from these by name)
CONFIGS = [
    ("adamax", lambda p: torch.optim.Adamax(p, lr=2e-3), {"name": "adamax", "lr": 2e-3}),
    # weight decay 1e-3 as gen_training.py's SGD and RMSprop runs (at 1e-2 with lr 1e-2 one step of the 3072-input model
    # came to 3.03x PyTorch-float32's drift, over TrainingParityTests' 3x)
    ("adamax_wd", lambda p: torch.optim.Adamax(p, lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-3),
     {"name": "adamax", "lr": 1e-2, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 1e-3}),
    ("adamax_maximize", lambda p: torch.optim.Adamax(p, lr=5e-3, maximize=True), {"name": "adamax", "lr": 5e-3, "maximize": True}),
    ("nadam", lambda p: torch.optim.NAdam(p, lr=2e-3), {"name": "nadam", "lr": 2e-3}),
    ("nadam_wd_decay", lambda p: torch.optim.NAdam(p, lr=5e-3, betas=(0.85, 0.99), eps=1e-6, weight_decay=1e-3, momentum_decay=0.02),
     {"name": "nadam", "lr": 5e-3, "beta1": 0.85, "beta2": 0.99, "eps": 1e-6, "weight_decay": 1e-3, "momentum_decay": 0.02}),
]

STEPS = 12
SCALES = [1.0, 1e-3, 2.0, 0.5, 1e-6, 1.0, 3.0, 1e-2, 1.0, 0.25, 1.0, 1.0]
SHAPES = [(4100,), (3, 7)]
WATCH0 = list(range(0, 8)) + list(range(4090, 4100))  # parameter 0's elements recorded at every step


def grad(t, j, shape, dtype):
    n = 1
    for s in shape:
        n *= s
    vals = []
    for i in range(n):
        k = (t * 7919 + j) * 100003 + i
        v = 0.0 if i % 7 == 0 else ((k * 2654435761 + 12345) % 4294967296 / 4294967296.0 - 0.5) * SCALES[t]
        vals.append(v)
    return torch.tensor(vals, dtype=torch.float64).reshape(shape).to(dtype)


def init(j, shape):
    g = torch.Generator().manual_seed(100 + j)
    return torch.randn(shape, generator=g, dtype=torch.float64)


def steps(make, dtype):
    ps = [torch.nn.Parameter(init(j, s).to(dtype)) for j, s in enumerate(SHAPES)]
    opt = make(ps)
    out = []
    for t in range(STEPS):
        for j, p in enumerate(ps):
            p.grad = None if (j == 1 and t == 2) else grad(t, j, p.shape, dtype)
        opt.step()
        out.append([ps[0].detach().reshape(-1)[WATCH0].double().tolist(), ps[1].detach().reshape(-1).double().tolist()])
    final0 = ps[0].detach().reshape(-1).double().tolist()
    return out, final0


def gen_steps():
    res = {"generator": "tools/parity/gen_optimizers.py", "torch": torch.__version__, "steps": STEPS, "scales": SCALES,
           "shapes": [list(s) for s in SHAPES], "watch0": WATCH0, "init": [init(j, s).reshape(-1).tolist() for j, s in enumerate(SHAPES)],
           "configs": []}
    for name, make, spec in CONFIGS:
        s32, f32 = steps(make, torch.float32)
        s64, f64 = steps(make, torch.float64)
        res["configs"].append({"name": name, "spec": spec, "float32": s32, "float64": s64, "final0_float32": f32, "final0_float64": f64})
        print(f"steps {name}: final p1[0] float32 {s32[-1][1][0]:.9g} float64 {s64[-1][1][0]:.12g}")
    os.makedirs(os.path.join(HERE, "optim"), exist_ok=True)
    with open(os.path.join(HERE, "optim", "steps.json"), "w") as f:
        json.dump(res, f)


def gen_trajectories():
    """gen_training.py's main loop over CONFIGS only (same models, data, initial weights and drift yardstick)."""
    out = {"steps": gt.STEPS, "batch": gt.B, "n": gt.N, "trajectories": [], "models": {}}
    for name, model, x, y, loss_fn in gt.models():
        init_w = {k: v.detach().clone() for k, v in model.state_dict().items()}
        out["models"][name] = {"features": x.shape[1], "targets": y.reshape(-1).tolist(),
                               "target_dtype": "int64" if y.dtype == torch.int64 else "float32"}
        for oname, make, spec in CONFIGS:
            losses = gt.run(model, make, x, y, loss_fn, init_w)
            losses64 = gt.run(model, make, x, y, loss_fn, init_w, dtype=torch.float64)
            variants = [losses] + [gt.run(model, make, x, y, loss_fn, init_w, twin=t) for t in gt.TWINS]
            drift, m = [], 0.0
            for s_, b in enumerate(losses64):
                m = max([m] + [abs(v[s_] - b) / abs(b) for v in variants])
                drift.append(m)
            steps_compared = next((i for i, d in enumerate(drift) if d > gt.MAX_DRIFT), gt.STEPS)
            out["trajectories"].append({"model": name, "optimizer": oname, "spec": spec, "losses": losses, "losses64": losses64,
                                        "drift32": drift, "steps_compared": steps_compared})
            print(f"{name:18s} {oname:18s} first {losses[0]:.5f} last {losses[-1]:.5f} float32 drift {m:.1e} compared {steps_compared} steps")
    with open(os.path.join(HERE, "training", "trajectories_optimizers.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    torch.set_num_threads(1)
    gen_steps()
    gen_trajectories()
