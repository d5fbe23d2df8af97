"""Generate PyTorch 1.13 float32 and float64 training trajectories of the reference CNN on real Fashion-MNIST images,
for FashionCnnTrajectoryTests (how far Kindling's float32 run drifts from float64, against PyTorch float32's own drift).

Usage: PYENV_VERSION=system python3 tools/parity/gen_fashion_cnn.py [OUT_DIR]   (default tools/parity/training)
Needs Fashion-MNIST's IDX files in /usr/share/datasets/fashion-mnist (Debian: dataset-fashion-mnist).

Model (the issue's reference CNN, the command's default): Conv2d(1,32,3,p=1)-ReLU-MaxPool2d(2)-Conv2d(32,64,3,p=1)-ReLU-
MaxPool2d(2)-Flatten-Linear(3136,128)-ReLU-Linear(128,10), cross-entropy.
Data: the first N training images, pixels / 255 (so the background is exact zeros: maxpool ties and all-zero patches,
as in real use); batch s takes images (s·B + r) mod N, r < B.
Initial weights, so that no weight file is needed: tensor t (in the order above, weight then bias) element k is
(u − 0.5)·2/√fan_in with u = ((k·2654435761 + 12345 + 7919·t) mod 2³²)/2³², computed in float64 and rounded to float32
(the bound is PyTorch's default 1/√fan_in).
Writes fashion_cnn_images.safetensors (images uint8 (N, 1, 28, 28), labels int64 (N)) and fashion_cnn.json: per
optimizer the float32 (stock: oneDNN convolutions) and float64 per-step losses, and the running maximum relative distance
from the float64 run of two equally valid PyTorch float32 runs: stock (drift32_onednn) and with
torch.backends.mkldnn.enabled = False, PyTorch's own im2col + BLAS convolutions (drift32_im2col). drift32, the larger of
the two at each step, is the yardstick (Kindling may be at most 2× as far): this Adam run is sensitive enough that the two
PyTorch float32 runs already differ 15× in drift (1.0e-4 and 1.6e-3), as the MLP generator's variants show for its runs.
"""
import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import save_file  # noqa: E402

torch.set_num_threads(1)
STEPS, B, N = 64, 64, 256
SRC = "/usr/share/datasets/fashion-mnist"
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "training")


def idx(name):
    with gzip.open(os.path.join(SRC, name)) as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def model():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def init_state():
    sd = model().state_dict()
    out, t = {}, 0
    for name, v in sd.items():
        w = sd[name.replace("bias", "weight")]
        fan_in = int(np.prod(w.shape[1:]))
        k = np.arange(v.numel(), dtype=np.uint64)
        u = ((k * np.uint64(2654435761) + np.uint64(12345 + 7919 * t)) % np.uint64(4294967296)).astype(np.float64) / 4294967296.0
        out[name] = torch.from_numpy(((u - 0.5) * 2 / np.sqrt(fan_in)).astype(np.float32).reshape(v.shape))
        t += 1
    return out


OPTIMIZERS = [
    ("adam", lambda p: torch.optim.Adam(p, lr=1e-3), {"name": "adam", "lr": 1e-3}),
    ("sgd_momentum", lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9), {"name": "sgd", "lr": 0.02, "momentum": 0.9}),
]


def run(init, make, x, y, dtype):
    m = model().to(dtype)
    m.load_state_dict(init)
    opt = make(m.parameters())
    losses = []
    for s in range(STEPS):
        i = torch.tensor([(s * B + r) % N for r in range(B)])
        opt.zero_grad()
        loss = nn.functional.cross_entropy(m(x[i].to(dtype)), y[i])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def running_drift(l32, l64):
    drift, mx = [], 0.0
    for a, b in zip(l32, l64):
        mx = max(mx, abs(a - b) / abs(b))
        drift.append(mx)
    return drift


def main():
    images = idx("train-images-idx3-ubyte.gz")[:N].copy()
    labels = idx("train-labels-idx1-ubyte.gz")[:N].astype(np.int64)
    os.makedirs(OUT, exist_ok=True)
    save_file({"images": torch.from_numpy(images.reshape(N, 1, 28, 28)), "labels": torch.from_numpy(labels)},
              os.path.join(OUT, "fashion_cnn_images.safetensors"), metadata={"written_by": f"torch {torch.__version__}"})
    x = torch.from_numpy(images.reshape(N, 1, 28, 28)).float() / 255
    y = torch.from_numpy(labels)
    init = init_state()
    out = {"steps": STEPS, "batch": B, "n": N, "trajectories": []}
    for name, make, spec in OPTIMIZERS:
        l64 = run(init, make, x, y, torch.float64)
        l32 = run(init, make, x, y, torch.float32)
        # PyTorch's other float32 convolution: its own im2col + BLAS path instead of oneDNN's kernels.
        torch.backends.mkldnn.enabled = False
        l32b = run(init, make, x, y, torch.float32)
        torch.backends.mkldnn.enabled = True
        d_stock, d_im2col = running_drift(l32, l64), running_drift(l32b, l64)
        out["trajectories"].append({"optimizer": name, "spec": spec, "losses32": l32, "losses64": l64,
                                    "drift32_onednn": d_stock, "drift32_im2col": d_im2col,
                                    "drift32": [max(a, b) for a, b in zip(d_stock, d_im2col)]})
        print(f"fashion cnn {name:14s} first {l64[0]:.5f} last {l64[-1]:.5f} float32 drift: oneDNN {d_stock[-1]:.2e}, im2col {d_im2col[-1]:.2e}")
    with open(os.path.join(OUT, "fashion_cnn.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
