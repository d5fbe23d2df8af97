"""Generate PyTorch 1.13 training trajectories for Kindling's training-parity tests.

Usage: PYENV_VERSION=system python3 tools/parity/gen_training.py [OUT_DIR]   (default tools/parity/training)

For each of the source material's three models it writes the initial weights (<model>.safetensors, written by
PyTorch through safetensors_io.py) and, for each optimizer configuration, the per-step training losses of
STEPS steps on deterministic data:
  x[i, j] = ((k * 2654435761 + 12345) mod 2^32) / 2^32 - 0.5 with k = i * D + j   (computed in float64, stored as float32)
Batch s takes rows (s * B + r) mod N for r in 0..B-1 (no shuffling), so Kindling can rebuild the same batches
without a data file. Labels/targets are stored in the JSON.

Each configuration is run twice from the same initial weights: in float32 (`losses`, PyTorch as people use it) and in
float64 (`losses64`, the same maths with far less rounding: the reference that does not drift). PyTorch-float32's
distance from the float64 run, as a running maximum of the relative difference over stock PyTorch and four equally valid float32
variants of it (Linear layers summing in other orders) (`drift32`), is the yardstick: Kindling's float32 trajectory must
stay within a small multiple of it (TrainingParityTests says which). A configuration that
amplifies rounding without bound (chaotic) would make any float32 trajectory arbitrary after a while; `steps_compared`
cuts it at the first step where one of those float32 runs is more than MAX_DRIFT from float64, rather than widening
the tolerance.
"""
import copy, json, math, os, sys
import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import save_file  # noqa: E402

torch.set_num_threads(1)
STEPS, B, N = 200, 64, 256
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "training")
os.makedirs(OUT, exist_ok=True)


def data(n, d):
    k = np.arange(n * d, dtype=np.uint64)
    v = ((k * np.uint64(2654435761) + np.uint64(12345)) % np.uint64(4294967296)).astype(np.float64) / 4294967296.0 - 0.5
    return torch.from_numpy(v.astype(np.float32).reshape(n, d))


class _F64Linear(torch.autograd.Function):
    """A Linear whose products accumulate in float64 before rounding to float32: another equally valid float32
    implementation. Where such twins leave the float64 trajectory, float32 results are arbitrary (see steps_compared)."""
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return (x.double() @ w.double().t() + b.double()).float()

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        return (gy.double() @ w.double()).float(), (gy.double().t() @ x.double()).float(), gy.double().sum(0).float()


class _SplitKLinear(torch.autograd.Function):
    """A Linear whose float32 products sum the inner dimension in two halves, as a BLAS with another blocking would."""
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        h = x.shape[1] // 2
        return x[:, :h] @ w[:, :h].t() + x[:, h:] @ w[:, h:].t() + b

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        h = gy.shape[0] // 2
        gw = gy[:h].t() @ x[:h] + gy[h:].t() @ x[h:]
        return gy @ w, gw, gy[:h].sum(0) + gy[h:].sum(0)


class _ReverseKLinear(torch.autograd.Function):
    """A Linear whose float32 products run over the inner dimension in reverse order (another summation order)."""
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x.flip(1) @ w.flip(1).t() + b

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        return gy.flip(1) @ w.flip(0), gy.flip(0).t() @ x.flip(0), gy.flip(0).sum(0)


class _ChunkedBatchLinear(torch.autograd.Function):
    """A Linear computed in float32 one half-batch at a time (another blocking of the same products)."""
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        h = x.shape[0] // 2
        return torch.cat([x[:h] @ w.t(), x[h:] @ w.t()]) + b

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        k = w.shape[1] // 3
        gx = torch.cat([gy @ w[:, :k], gy @ w[:, k:]], 1)
        return gx, gy.t() @ x, gy.sum(0)


class _Twin(nn.Module):
    def __init__(self, lin, fn):
        super().__init__()
        self.weight, self.bias, self.fn = lin.weight, lin.bias, fn

    def forward(self, x):
        return self.fn.apply(x, self.weight, self.bias)


TWINS = (_F64Linear, _SplitKLinear, _ReverseKLinear, _ChunkedBatchLinear)
MAX_DRIFT = 1e-2  # beyond 1 % relative between PyTorch float32 and float64, a float32 trajectory means little


def run(model, make, x, y, loss_fn, init, dtype=torch.float32, twin=None):
    model = copy.deepcopy(model).to(dtype)
    model.load_state_dict({k: v.to(dtype) for k, v in init.items()})
    opt = make(model.parameters())
    f = nn.Sequential(_Twin(model[0], twin), model[1], _Twin(model[2], twin)) if twin else model
    x = x.to(dtype)
    if y.is_floating_point():
        y = y.to(dtype)
    losses = []
    for s in range(STEPS):
        idx = torch.tensor([(s * B + r) % N for r in range(B)])
        opt.zero_grad()
        loss = loss_fn(f(x[idx]), y[idx])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def models():
    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(3072, 128), nn.ReLU(), nn.Linear(128, 2))
    xa = data(N, 3072)
    ya = ((xa[:, :16].sum(1) + 0.3 * xa[:, 100]) > 0).long()
    b = nn.Sequential(nn.Linear(10, 128), nn.ReLU(), nn.Linear(128, 1))
    xb = data(N, 10)
    yb = (xb @ torch.linspace(-1, 1, 10) + 0.5 * xb[:, 0] ** 2 + 0.1).unsqueeze(1) * 3
    c = nn.Sequential(nn.Linear(10, 5), nn.Sigmoid(), nn.Linear(5, 1))
    xc = data(N, 10)
    yc = ((xc[:, 0] - xc[:, 3] + 0.5 * xc[:, 7]) > 0).float().unsqueeze(1)
    return [
        ("image_3072_128_2", a, xa, ya, nn.CrossEntropyLoss()),
        ("house_10_128_1", b, xb, yb, nn.MSELoss()),
        ("binary_10_5_1", c, xc, yc, nn.BCEWithLogitsLoss()),
    ]


OPTIMIZERS = [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.05), {"name": "sgd", "lr": 0.05}),
    ("sgd_momentum_wd", lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, dampening=0.1, weight_decay=1e-3),
     {"name": "sgd", "lr": 0.02, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-3}),
    ("sgd_nesterov_wd", lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True, weight_decay=1e-3),
     {"name": "sgd", "lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ("adam", lambda p: torch.optim.Adam(p, lr=1e-3), {"name": "adam", "lr": 1e-3}),
    ("adam_wd", lambda p: torch.optim.Adam(p, lr=1e-3, weight_decay=1e-2), {"name": "adam", "lr": 1e-3, "weight_decay": 1e-2}),
    ("adamw", lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=1e-2), {"name": "adamw", "lr": 1e-3, "weight_decay": 1e-2}),
    ("adamw_amsgrad", lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=1e-2, amsgrad=True),
     {"name": "adamw", "lr": 1e-3, "weight_decay": 1e-2, "amsgrad": True}),
    ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=1e-3), {"name": "rmsprop", "lr": 1e-3}),
    ("rmsprop_centered_momentum", lambda p: torch.optim.RMSprop(p, lr=1e-3, momentum=0.9, centered=True, weight_decay=1e-3),
     {"name": "rmsprop", "lr": 1e-3, "momentum": 0.9, "centered": True, "weight_decay": 1e-3}),
    ("adagrad", lambda p: torch.optim.Adagrad(p, lr=1e-2), {"name": "adagrad", "lr": 1e-2}),
]

# With a zero initial accumulator Adagrad's first step moves every weight by ±lr·g/(|g| + 1e-10), however tiny g is,
# so on the 3072-input model float32 rounding noise in near-zero gradients becomes full-size steps (PyTorch's own
# float32 variants drift 8e-5 there, Kindling 5e-4). That model's Adagrad run therefore starts the accumulator at 0.1
# (TensorFlow's default); the two small models keep PyTorch's default of 0.
IMAGE_OVERRIDES = {
    "adagrad": (lambda p: torch.optim.Adagrad(p, lr=1e-2, initial_accumulator_value=0.1),
                {"name": "adagrad", "lr": 1e-2, "initial_accumulator_value": 0.1}),
}


SCHEDULERS = [
    ("step", {"name": "step", "step_size": 3, "gamma": 0.5}, lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)),
    ("multistep", {"name": "multistep", "milestones": [2, 5, 9], "gamma": 0.3}, lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [2, 5, 9], 0.3)),
    ("exponential", {"name": "exponential", "gamma": 0.9}, lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
    ("cosine", {"name": "cosine", "t_max": 10, "eta_min": 0.001}, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 10, 0.001)),
    ("linear", {"name": "linear", "start_factor": 0.25, "end_factor": 1.0, "total_iters": 4}, lambda o: torch.optim.lr_scheduler.LinearLR(o, 0.25, 1.0, 4)),
    ("onecycle", {"name": "onecycle", "max_lr": 0.5, "total_steps": 20}, lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.5, total_steps=20)),
    ("onecycle_linear", {"name": "onecycle", "max_lr": 0.3, "total_steps": 15, "pct_start": 0.4, "anneal_strategy": "linear"},
     lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.3, total_steps=15, pct_start=0.4, anneal_strategy="linear")),
]


def schedulers():
    res = []
    for name, spec, make in SCHEDULERS:
        p = torch.nn.Parameter(torch.zeros(2))
        opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
        sch = make(opt)
        lrs, moms = [], []
        steps = spec.get("total_steps", 20)
        for _ in range(steps):
            lrs.append(opt.param_groups[0]["lr"])
            moms.append(opt.param_groups[0]["momentum"])
            opt.step()
            if len(lrs) < steps:
                sch.step()
        res.append({"name": name, "spec": spec, "lrs": lrs, "momentums": moms})
    # ReduceLROnPlateau on a fixed metric sequence
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=0.1)
    sch = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2, cooldown=1)
    metrics = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9]
    lrs = []
    for m in metrics:
        sch.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    res.append({"name": "plateau", "spec": {"name": "plateau", "factor": 0.5, "patience": 2, "cooldown": 1}, "metrics": metrics, "lrs": lrs})
    return res


def main():
    out = {"steps": STEPS, "batch": B, "n": N, "trajectories": []}
    for name, model, x, y, loss_fn in models():
        init = {k: v.detach().clone() for k, v in model.state_dict().items()}
        save_file(init, os.path.join(OUT, f"{name}.safetensors"), metadata={"written_by": f"torch {torch.__version__}"})
        out.setdefault("models", {})[name] = {
            "features": x.shape[1],
            "targets": y.reshape(-1).tolist(),
            "target_dtype": "int64" if y.dtype == torch.int64 else "float32",
        }
        for oname, make, spec in OPTIMIZERS:
            if name.startswith("image") and oname in IMAGE_OVERRIDES:
                make, spec = IMAGE_OVERRIDES[oname]
            losses = run(model, make, x, y, loss_fn, init)
            losses64 = run(model, make, x, y, loss_fn, init, dtype=torch.float64)
            # PyTorch-float32's distance from float64: the running maximum, over stock PyTorch and its four equally valid
            # float32 twins (other summation orders), of the relative difference. Stock PyTorch alone can track float64
            # by luck where its twins (and any other float32 implementation) already differ by 1e-4.
            variants = [losses] + [run(model, make, x, y, loss_fn, init, twin=t) for t in TWINS]
            drift, m = [], 0.0
            for s_, b in enumerate(losses64):
                m = max([m] + [abs(v[s_] - b) / abs(b) for v in variants])
                drift.append(m)
            # Where one of them leaves float64 by more than MAX_DRIFT, the configuration has amplified rounding into a
            # different trajectory: stop comparing there.
            steps = next((i for i, d in enumerate(drift) if d > MAX_DRIFT), STEPS)
            out["trajectories"].append({"model": name, "optimizer": oname, "spec": spec, "losses": losses, "losses64": losses64,
                                        "drift32": drift, "steps_compared": steps})
            print(f"{name:18s} {oname:26s} first {losses[0]:.5f} last {losses[-1]:.5f} float32 drift {m:.1e} compared {steps} steps")
    out["schedulers"] = schedulers()
    with open(os.path.join(OUT, "trajectories.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
