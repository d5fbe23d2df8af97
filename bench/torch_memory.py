"""PyTorch twin of bench/memory.sh: one epoch of the Fashion-MNIST MLP the way a PyTorch user writes it.

Fashion-MNIST (the issue's reference script): loads the IDX files, scales them to [0, 1] (img.float().div(255)), trains
784-256-128-10 with Adam (lr 1e-3, batch 128) for one epoch, and evaluates the training and test sets in batches under
no_grad. CSV: reads a numeric file with numpy, holds out 20% for testing and 10% of the rest for validation,
standardises with the training split's statistics and trains the same MLP with MSE (batch 1024).
Prints one JSON line: peak resident set size (ru_maxrss) and the epoch's seconds.
loader: a TensorDataset over a uint8 tensor of KINDLING_LOADER_GB (default 2.0) GB of 784-byte rows, 500 shuffled batches
of 256 through the same MLP, each batch converted with xb.float().div(255) (the twin of Kindling.Bench's loader mode).
Usage: PYENV_VERSION=system python3 bench/torch_memory.py [fashion|csv FILE|loader]
"""
import gzip, json, os, resource, struct, sys, time
import numpy as np
import torch

torch.set_num_threads(2)
FOLDER = "/usr/share/datasets/fashion-mnist"


def idx(path):
    op = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with op(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def find(prefix, kind, nd):
    for name in (f"{prefix}-{kind}-idx{nd}-ubyte", f"{prefix}-{kind}.idx{nd}-ubyte"):
        for ext in ("", ".gz"):
            p = os.path.join(FOLDER, name + ext)
            if os.path.exists(p):
                return p
    raise SystemExit(f"Fashion-MNIST not found in {FOLDER}")


def evaluate(model, x, y, loss_fn, bs=1024):
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(x[i:i + bs]) for i in range(0, len(x), bs)])
        l = loss_fn(out, y).item()
    model.train()
    return l


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "fashion"
    g = torch.Generator().manual_seed(0)
    if mode == "loader":
        return run_loader(g)
    if mode == "fashion":
        x = idx(find("train", "images", 3)).reshape(-1, 784).float().div_(255)
        y = idx(find("train", "labels", 1)).long()
        xt = idx(find("t10k", "images", 3)).reshape(-1, 784).float().div_(255)
        yt = idx(find("t10k", "labels", 1)).long()
        classes, loss_fn = 10, torch.nn.CrossEntropyLoss()
    else:
        # A numeric CSV with a header and the target in the last column (bench/memory.sh writes it).
        a = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, dtype=np.float32)
        t = torch.from_numpy(a)
        perm = torch.randperm(len(t), generator=g)
        nt = int(round(0.2 * len(t)))
        x, y = t[perm[nt:], :-1], t[perm[nt:], -1:]
        xt, yt = t[perm[:nt], :-1], t[perm[:nt], -1:]
        del a, t
        classes, loss_fn = 1, torch.nn.MSELoss()
    sets = [(x, y), (xt, yt)]
    if mode != "fashion":
        perm = torch.randperm(len(x), generator=g)
        nv = int(round(0.1 * len(x)))
        xv, yv = x[perm[:nv]], y[perm[:nv]]
        x, y = x[perm[nv:]], y[perm[nv:]]
        mean, std = x.mean(0), x.std(0, unbiased=False)
        std[std == 0] = 1
        x, xv, xt = (x - mean) / std, (xv - mean) / std, (xt - mean) / std
        sets = [(x, y), (xv, yv), (xt, yt)]
    f = x.shape[1]
    model = torch.nn.Sequential(torch.nn.Linear(f, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, classes))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=128 if mode == "fashion" else 1024, shuffle=True, generator=g)
    t0 = time.perf_counter()
    for xb, yb in loader:
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
    losses = [evaluate(model, a, b, loss_fn) for a, b in sets]
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"mode": mode, "peak_rss_bytes": peak, "epoch_seconds": seconds, "losses": losses}))


def run_loader(g):
    gb = float(os.environ.get("KINDLING_LOADER_GB", "2.0"))
    rows = int(gb * 1e9 / 784)
    x = torch.randint(0, 256, (rows, 784), dtype=torch.uint8, generator=g)
    y = torch.arange(rows) % 10
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    loader_ = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=256, shuffle=True, generator=g)
    t0, done = time.perf_counter(), 0
    for xb, yb in loader_:
        opt.zero_grad()
        loss_fn(model(xb.float().div(255)), yb).backward()
        opt.step()
        done += 1
        if done == 500:
            break
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"mode": "loader", "data_bytes": x.numel(), "peak_rss_bytes": peak, "samples_per_second": 500 * 256 / seconds}))


if __name__ == "__main__":
    main()
