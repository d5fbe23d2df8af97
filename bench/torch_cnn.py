"""PyTorch twin of `Kindling.Bench cnn`: the issue's reference CNN, run with oneDNN (torch.backends.mkldnn.enabled =
True, the default) and without it (PyTorch's own im2col + BLAS path). Each label is printed twice, suffixed
" [mkldnn]" and " [no-mkldnn]"; with --json the faster of the two is reported under the plain label (the one Kindling
is held against), and both appear with their suffixes.

Run: PYENV_VERSION=system python3 bench/torch_cnn.py [--json] [--threads N] [--reps N]
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_bench import median_seconds  # noqa: E402


def model():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def run(reps, filt):
    r = {}
    torch.manual_seed(1)
    m = model()
    if filt is None or "train" in filt:
        xs = [torch.randn(128, 1, 28, 28) for _ in range(4)]
        ys = [torch.randint(0, 10, (128,)) for _ in range(4)]
        opt = torch.optim.Adam(m.parameters(), 1e-3)
        k = [0]

        def step():
            opt.zero_grad()
            F.cross_entropy(m(xs[k[0] % 4]), ys[k[0] % 4]).backward()
            opt.step()
            k[0] += 1
        r["cnn train adam b128"] = 128 / median_seconds(step, reps)
    if filt is None or "infer" in filt:
        x = torch.randn(2048, 1, 28, 28)
        m.eval()

        def infer():
            with torch.no_grad():
                m(x)
        r["cnn infer b2048"] = 2048 / median_seconds(infer, reps)
        m.train()
    for name, n, c, oc, hw in [("conv1 1>32 28x28", 128, 1, 32, 28), ("conv2 32>64 14x14", 128, 32, 64, 14)]:
        if filt is not None and filt not in name:
            continue
        x = torch.randn(n, c, hw, hw)
        w = torch.randn(oc, c, 3, 3) * 0.1
        b = torch.randn(oc)
        gy = torch.randn(n, oc, hw, hw)
        flops = 2.0 * n * oc * hw * hw * c * 9

        def fwd():
            with torch.no_grad():
                F.conv2d(x, w, b, padding=1)
        # Backward alone: one recorded forward, its backward run again and again (retain_graph).
        xr = x.clone().requires_grad_()
        wr = w.clone().requires_grad_()
        yx = F.conv2d(xr, w, b, padding=1)
        yw = F.conv2d(x, wr, None, padding=1)

        def fdx():
            xr.grad = None
            yx.backward(gy, retain_graph=True)

        def fdw():
            wr.grad = None
            yw.backward(gy, retain_graph=True)
        r[f"{name} forward GFLOP/s"] = flops / median_seconds(fwd, reps) / 1e9
        r[f"{name} input-grad GFLOP/s"] = flops / median_seconds(fdx, reps) / 1e9
        r[f"{name} weight-grad GFLOP/s"] = flops / median_seconds(fdw, reps) / 1e9
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=11)
    ap.add_argument("--filter", default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    both = {}
    for flag in (True, False):
        torch.backends.mkldnn.enabled = flag
        res = run(a.reps, a.filter)
        tag = "mkldnn" if flag else "no-mkldnn"
        for k, v in res.items():
            both.setdefault(k, {})[tag] = v
            if not a.json:
                print(f"{k + ' [' + tag + ']':<50} {v:14.1f}")
    out = {}
    for k, v in both.items():
        out[k] = max(v.values())
        for tag, x in v.items():
            out[f"{k} [{tag}]"] = x
    if a.json:
        print(json.dumps({"impl": "torch", "mode": "cnn", "threads": a.threads, "results": out, "unit": "samples/s | GFLOP/s"}))


if __name__ == "__main__":
    main()
