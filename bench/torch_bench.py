"""PyTorch twin of `Kindling.Bench` modes elementwise, reductions, logsoftmax, losses and training (gemm is torch_gemm.py).

Run: PYENV_VERSION=system python3 bench/torch_bench.py MODE [--json] [--threads N] [--reps N]
Labels and units match the C# side so bench/run.sh can print ratios.
"""
import argparse, json, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def median_seconds(fn, reps, warmup=1.0, sample=0.05):
    t0 = time.perf_counter(); calls = 0
    while time.perf_counter() - t0 < warmup:
        fn(); calls += 1
    per = (time.perf_counter() - t0) / calls
    inner = max(1, int(sample / per + 0.999))
    samples = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t) / inner)
    samples.sort()
    return samples[len(samples) // 2]


def elementwise(reps):
    n = 1 << 24
    a, b, c = torch.rand(n) * 4 - 2, torch.rand(n) * 4 - 2, torch.empty(n)
    r = {}
    r["copy 16M"] = 8.0 * n / median_seconds(lambda: c.copy_(a), reps) / 1e9
    r["add 16M (into)"] = 12.0 * n / median_seconds(lambda: torch.add(a, b, out=c), reps) / 1e9
    r["add 16M (tensor)"] = 12.0 * n / median_seconds(lambda: a + b, reps) / 1e9
    r["exp 16M (into)"] = 8.0 * n / median_seconds(lambda: torch.exp(a, out=c), reps) / 1e9
    r["exp 16M (tensor)"] = 8.0 * n / median_seconds(lambda: a.exp(), reps) / 1e9
    return r, "GB/s"


def reductions(reps):
    n = 1 << 24
    a = torch.rand(n)
    sq = a.view(4096, 4096)
    r = {}
    r["sum 16M"] = 4.0 * n / median_seconds(lambda: a.sum(), reps) / 1e9
    r["sum(1) 4096x4096"] = 4.0 * n / median_seconds(lambda: sq.sum(1), reps) / 1e9
    r["sum(0) 4096x4096"] = 4.0 * n / median_seconds(lambda: sq.sum(0), reps) / 1e9
    r["var 16M"] = 4.0 * n / median_seconds(lambda: a.var(), reps) / 1e9
    r["norm 16M"] = 4.0 * n / median_seconds(lambda: a.norm(), reps) / 1e9
    return r, "GB/s"


def logsoftmax(reps):
    r = {}
    for rows, cols in [(65536, 10), (8192, 1000)]:
        x = torch.randn(rows, cols)
        r[f"log_softmax {rows}x{cols}"] = median_seconds(lambda: F.log_softmax(x, 1), reps) * 1e3
    return r, "ms"


def losses(reps):
    r = {}
    def case(label, x, fn, keep_grad=False):
        x.requires_grad_(True)
        def step():
            # keep_grad: zero in place (zero_grad's default in 1.13) instead of dropping the gradient
            if keep_grad and x.grad is not None: x.grad.zero_()
            else: x.grad = None
            fn(x).backward()
        r[label] = median_seconds(step, reps) * 1e3
    case("cross_entropy 65536x10", torch.randn(65536, 10), lambda x, t=torch.randint(0, 10, (65536,)): F.cross_entropy(x, t))
    case("cross_entropy 8192x1000", torch.randn(8192, 1000), lambda x, t=torch.randint(0, 1000, (8192,)): F.cross_entropy(x, t))
    case("cross_entropy 8192x1000 zero_grad", torch.randn(8192, 1000), lambda x, t=torch.randint(0, 1000, (8192,)): F.cross_entropy(x, t), keep_grad=True)
    case("bce_with_logits 65536x100", torch.randn(65536, 100), lambda x, t=(torch.rand(65536, 100) > 0.5).float(): F.binary_cross_entropy_with_logits(x, t))
    case("mse_loss 4M", torch.randn(4 << 20), lambda x, t=torch.randn(4 << 20): F.mse_loss(x, t))
    return r, "ms"


def training(reps):
    r = {}
    def case(label, sizes, sigmoid, batch, loss, make_opt):
        torch.manual_seed(1)
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i + 2 < len(sizes):
                layers.append(nn.Sigmoid() if sigmoid else nn.ReLU())
        model = nn.Sequential(*layers)
        nb = 16
        xs = [torch.randn(batch, sizes[0]) for _ in range(nb)]
        if loss == "ce":
            ys = [torch.randint(0, sizes[-1], (batch,)) for _ in range(nb)]; lf = nn.CrossEntropyLoss()
        elif loss == "bce":
            ys = [(torch.rand(batch, 1) > 0.5).float() for _ in range(nb)]; lf = nn.BCEWithLogitsLoss()
        else:
            ys = [torch.randn(batch, 1) for _ in range(nb)]; lf = nn.MSELoss()
        opt = make_opt(model.parameters())
        k = [0]
        def step():
            i = k[0] % nb; k[0] += 1
            opt.zero_grad()
            lf(model(xs[i]), ys[i]).backward()
            opt.step()
        r[label] = batch / median_seconds(step, reps)
    case("train 3072-128-2 sgd b64", [3072, 128, 2], False, 64, "ce", lambda p: torch.optim.SGD(p, lr=0.01))
    case("train 10-128-1 sgd b64", [10, 128, 1], False, 64, "mse", lambda p: torch.optim.SGD(p, lr=0.01))
    case("train 10-5-1 sgd b64", [10, 5, 1], True, 64, "bce", lambda p: torch.optim.SGD(p, lr=0.01))
    case("train 784-256-128-10 adam b128", [784, 256, 128, 10], False, 128, "ce", lambda p: torch.optim.Adam(p, lr=1e-3))
    return r, "samples/s"


def _mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def inference(reps):
    """Twin of InferenceBench: eval mode under no_grad, batch 1, 64 and 4096, MLP and the reference CNN."""
    from torch_cnn import model as cnn_model
    torch.manual_seed(1)
    mlp, cnn = _mlp().eval(), cnn_model().eval()
    r = {}
    for batch in (1, 64, 4096):
        for label, m, x in ((f"infer mlp 784-256-128-10 b{batch}", mlp, torch.randn(batch, 784)),
                            (f"infer cnn b{batch}", cnn, torch.randn(batch, 1, 28, 28))):
            def call():
                with torch.no_grad():
                    m(x)
            r[label] = batch / median_seconds(call, reps)
    return r, "samples/s"


def _idx(path):
    import gzip, numpy as np
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def tta(reps):
    """Twin of TimeToAccuracyBench: Fashion-MNIST MLP, Adam 1e-3, batch 128, shuffled DataLoader, pixels / 255, until
    88% on the official test set (checked after each epoch, at most 30); seconds of training alone (evaluation
    excluded) and epochs, medians over seeds 1..min(reps, 5)."""
    import os
    folder = "/usr/share/datasets/fashion-mnist"
    def load(prefix):
        def f(kind):
            p = os.path.join(folder, f"{prefix}-{kind}")
            return p if os.path.exists(p) else p + ".gz"
        x = torch.from_numpy(_idx(f("images-idx3-ubyte")).copy()).reshape(-1, 784).float() / 255
        y = torch.from_numpy(_idx(f("labels-idx1-ubyte")).copy()).long()
        return x, y
    (xtr, ytr), (xte, yte) = load("train"), load("t10k")
    secs, eps = [], []
    for seed in range(1, max(1, min(reps, 5)) + 1):
        torch.manual_seed(seed)
        m = _mlp()
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xtr, ytr), batch_size=128, shuffle=True)
        t = 0.0; ep = float("nan")
        for epoch in range(1, 31):
            t0 = time.perf_counter()
            m.train()
            for x, y in loader:
                opt.zero_grad()
                F.cross_entropy(m(x), y).backward()
                opt.step()
            t += time.perf_counter() - t0
            m.eval()
            with torch.no_grad():
                acc = (m(xte).argmax(1) == yte).float().mean().item()
            if acc >= 0.88:
                ep = epoch
                break
        secs.append(t); eps.append(ep)
    secs.sort(); eps.sort()
    return {"tta fashion mlp 88% seconds": secs[len(secs) // 2], "tta fashion mlp 88% epochs": eps[len(eps) // 2]}, "s"


MODES = {"elementwise": elementwise, "reductions": reductions, "logsoftmax": logsoftmax, "losses": losses, "training": training, "inference": inference, "tta": tta}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=sorted(MODES))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=11)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    res, unit = MODES[a.mode](a.reps)
    if a.json:
        print(json.dumps({"impl": "torch", "mode": a.mode, "threads": a.threads, "torch": torch.__version__, "results": {k: round(v, 3) for k, v in res.items()}, "unit": unit}))
    else:
        for k, v in res.items():
            print(f"{k:<34} torch    {v:10.3f} {unit}")
