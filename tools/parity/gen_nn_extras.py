"""PyTorch 1.13 numbers for Kindling's activation modules, init helpers, Module.eval and optimizer options.

Usage: PYENV_VERSION=system python3 tools/parity/gen_nn_extras.py [OUT]   (default tools/parity/nn_extras.json)

- activations: ELU (alpha 1 and 0.5), GELU (exact erf form), LeakyReLU (0.01 and 0.2), SiLU, Identity on fixed inputs,
  in float64, with the gradient of the sum;
- init: torch.nn.init.calculate_gain, the fans of a few shapes, and the bound/std each init function draws from
  (Kindling's generator is not torch's, so the tests check the distribution's parameters, not the draws);
- eval: a Linear -> BatchNorm1d -> Dropout model trained for two steps, then its output in eval mode (running stats,
  no dropout) on fixed inputs, in float64;
- optimizers: maximize for SGD (momentum), Adam, RMSprop, Adagrad, and Adagrad's lr_decay, on a fixed quadratic-plus-
  cubic objective over 6 steps, in float64.
"""
import json, math, os, sys
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn_extras.json")
X = [-6.0, -3.0, -1.5, -0.7, -0.2, -1e-3, 0.0, 1e-3, 0.3, 0.9, 2.0, 7.5]


def activations():
    res = []
    for name, mod in [("elu", nn.ELU()), ("elu_0.5", nn.ELU(alpha=0.5)), ("gelu", nn.GELU()), ("leaky_relu", nn.LeakyReLU()),
                      ("leaky_relu_0.2", nn.LeakyReLU(0.2)), ("silu", nn.SiLU()), ("identity", nn.Identity())]:
        x = torch.tensor(X, requires_grad=True)
        y = mod(x)
        y.sum().backward()
        res.append({"name": name, "x": X, "y": y.tolist(), "grad": x.grad.tolist()})
    return res


def init():
    gains = {}
    for nl, p in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        key = nl if p is None else f"{nl}:{p}"
        gains[key] = nn.init.calculate_gain(nl, p)
    fans = []
    for shape in [(5, 3), (4, 3, 2, 2), (7,)]:
        t = torch.empty(shape)
        if len(shape) < 2:
            fans.append({"shape": list(shape), "error": True})
            continue
        fi, fo = nn.init._calculate_fan_in_and_fan_out(t)
        fans.append({"shape": list(shape), "fan_in": fi, "fan_out": fo})
    # The distribution each init draws from, for a (64, 48) weight: uniform bound or normal std, from torch's formulas.
    fi, fo = 48, 64
    dists = {
        "xavier_uniform_gain2": {"bound": 2 * math.sqrt(6 / (fi + fo))},
        "xavier_normal_gain2": {"std": 2 * math.sqrt(2 / (fi + fo))},
        "kaiming_uniform_a_sqrt5": {"bound": nn.init.calculate_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3 / fi)},
        "kaiming_normal_relu_fan_out": {"std": nn.init.calculate_gain("relu") / math.sqrt(fo)},
    }
    # check the formulas against torch's own draws on a large tensor
    big = torch.empty(400, 300)
    nn.init.kaiming_uniform_(big, a=math.sqrt(5))
    assert abs(big.abs().max().item() - nn.init.calculate_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3 / 300)) < 1e-3
    return {"gains": gains, "fans": fans, "dists": dists}


def eval_mode(dtype=torch.float64):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Dropout(0.5)).to(dtype)
    state = {k: v.tolist() for k, v in model.state_dict().items() if k.startswith("0.")}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [[[0.1 * (i + j) - 0.3 * j * j for j in range(4)] for i in range(6)], [[math.sin(i + 2 * j) for j in range(4)] for i in range(6)]]
    model.train()
    for b in batches:
        opt.zero_grad()
        # Dropout is in the training graph; with p = 0.5 its mask is random, so train on the BatchNorm output instead and
        # let eval() be judged on running stats and the absence of dropout.
        model[1](model[0](torch.tensor(b, dtype=dtype))).pow(2).mean().backward()
        opt.step()
    model.eval()
    x = [[0.5, -1.0, 2.0, 0.0], [1.5, 0.25, -0.5, 3.0]]
    with torch.no_grad():
        y = model(torch.tensor(x, dtype=dtype))
    if dtype == torch.float64:
        # PyTorch's own float32 answer: the running variance is small, so BatchNorm amplifies float32 rounding.
        return {**eval_mode(torch.float32), "y": y.tolist(), "y32": eval_mode(torch.float32)["y"],
                "running_mean": model[1].running_mean.tolist(), "running_var": model[1].running_var.tolist()}
    return {"init": state, "batches": batches, "lr": 0.1, "x": x, "y": y.tolist(),
            "running_mean": model[1].running_mean.tolist(), "running_var": model[1].running_var.tolist()}


def objective(w):
    # f(w) = sum(c * w^2 + 0.1 * w^3), c fixed: gradients change every step
    c = torch.tensor([1.0, -0.5, 2.0, 0.3])
    return (c * w * w + 0.1 * w ** 3).sum()


def optimizers():
    cfgs = [
        ("sgd_momentum_maximize", {"name": "sgd", "lr": 0.05, "momentum": 0.9, "maximize": True}, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, maximize=True)),
        ("adam_maximize", {"name": "adam", "lr": 0.05, "maximize": True}, lambda p: torch.optim.Adam(p, lr=0.05, maximize=True)),
        ("rmsprop_maximize", {"name": "rmsprop", "lr": 0.01, "maximize": True}, lambda p: torch.optim.RMSprop(p, lr=0.01, maximize=True)),
        ("adagrad_maximize", {"name": "adagrad", "lr": 0.1, "maximize": True}, lambda p: torch.optim.Adagrad(p, lr=0.1, maximize=True)),
        ("adagrad_lr_decay", {"name": "adagrad", "lr": 0.1, "lr_decay": 0.5}, lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.5)),
        ("adagrad_lr_decay_wd_maximize", {"name": "adagrad", "lr": 0.1, "lr_decay": 0.25, "weight_decay": 0.1, "maximize": True},
         lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.25, weight_decay=0.1, maximize=True)),
    ]
    res = []
    w0 = [0.5, -1.2, 0.8, 2.0]
    for name, spec, make in cfgs:
        w = torch.tensor(w0, requires_grad=True)
        opt = make([w])
        traj = []
        for _ in range(6):
            opt.zero_grad()
            objective(w).backward()
            opt.step()
            traj.append(w.detach().tolist())
        res.append({"name": name, "spec": spec, "w0": w0, "params": traj})
    return res


def main():
    out = {"torch": torch.__version__, "activations": activations(), "init": init(), "eval": eval_mode(), "optimizers": optimizers()}
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
