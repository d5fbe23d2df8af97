"""Generate PyTorch 1.13 training trajectories of a small CNN for Kindling's CNN training-parity tests.

Usage: PYENV_VERSION=system python3 tools/parity/gen_cnn_training.py [OUT_DIR]   (default tools/parity/training)

Model (12×12 single-channel images, 10 classes):
  Conv2d(1, 8, 3, padding=1) - BatchNorm2d(8) - ReLU - MaxPool2d(2) - Conv2d(8, 16, 3, padding=1) - ReLU - MaxPool2d(2)
  - Flatten - Linear(144, 10), CrossEntropyLoss.
Data: x[i, 0, r, c] = ((k·2654435761 + 12345) mod 2³²)/2³² − 0.5 with k = i·144 + r·12 + c (as gen_training.py), and the
label of image i is the row (0..9) with the largest sum. Batch s takes images (s·B + r) mod N, r < B, no shuffling.
Writes cnn_init.safetensors (initial weights and BatchNorm buffers), cnn_trained.safetensors (state after the Adam run,
with non-trivial running statistics) and cnn_trajectories.json: per optimizer the per-step float32 losses (`losses`),
float64 losses (`losses64`, the reference that does not drift) and `drift32`, PyTorch float32's running maximum relative
distance from float64 (Kindling's float32 may be 2× that away from float64, never less than the float32 resolution
floor), plus the trained model's evaluation-mode logits on the first 16 images.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import save_file  # noqa: E402

torch.set_num_threads(1)
STEPS, B, N, S = 200, 32, 256, 12
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "training")


def data():
    k = np.arange(N * S * S, dtype=np.uint64)
    v = ((k * np.uint64(2654435761) + np.uint64(12345)) % np.uint64(4294967296)).astype(np.float64) / 4294967296.0 - 0.5
    x = torch.from_numpy(v.astype(np.float32).reshape(N, 1, S, S))
    y = x[:, 0, :10, :].sum(2).argmax(1)
    return x, y


def model():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 3 * 3, 10))


OPTIMIZERS = [
    ("adam", lambda p: torch.optim.Adam(p, lr=1e-3), {"name": "adam", "lr": 1e-3}),
    ("sgd_momentum", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), {"name": "sgd", "lr": 0.05, "momentum": 0.9}),
]


def run(init, make, x, y, dtype):
    m = model().to(dtype)
    m.load_state_dict(init)
    opt = make(m.parameters())
    losses = []
    for s in range(STEPS):
        idx = torch.tensor([(s * B + r) % N for r in range(B)])
        opt.zero_grad()
        loss = nn.functional.cross_entropy(m(x[idx].to(dtype)), y[idx])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return m, losses


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    x, y = data()
    init = {k: v.detach().clone() for k, v in model().state_dict().items()}
    save_file(init, os.path.join(OUT, "cnn_init.safetensors"), metadata={"written_by": f"torch {torch.__version__}"})
    out = {"steps": STEPS, "batch": B, "n": N, "size": S, "targets": y.tolist(), "trajectories": []}
    for name, make, spec in OPTIMIZERS:
        m, losses = run(init, make, x, y, torch.float32)
        _, l64 = run(init, make, x, y, torch.float64)
        drift, mx = [], 0.0
        for a, b in zip(losses, l64):
            mx = max(mx, abs(a - b) / abs(b))
            drift.append(mx)
        out["trajectories"].append({"optimizer": name, "spec": spec, "losses": losses, "losses64": l64, "drift32": drift})
        print(f"cnn {name:14s} first {losses[0]:.5f} last {losses[-1]:.5f} float drift {mx:.1e}")
        if name == "adam":
            save_file({k: v.detach().clone() for k, v in m.state_dict().items()}, os.path.join(OUT, "cnn_trained.safetensors"),
                      metadata={"written_by": f"torch {torch.__version__}"})
            m.eval()
            with torch.no_grad():
                out["trained_eval_logits"] = m(x[:16]).tolist()
    with open(os.path.join(OUT, "cnn_trajectories.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
