"""PyTorch 1.13 numbers for BatchNorm1d and LayerNorm (values, running statistics, gradients, train/eval).

Usage: PYENV_VERSION=system python3 tools/parity/gen_norm_cases.py [OUT]   (default tools/parity/norm/norm_cases.json)

Every case is a module with non-trivial weight and bias (when affine) run through a sequence of steps, in float64. A
step is one forward in training or evaluation mode on a fresh input, then backward of sum(output * grad_output) with a
fixed random grad_output; it records the output, the gradients of input, weight and bias, and (BatchNorm1d) the running
statistics and num_batches_tracked after the step. Cases:

- BatchNorm1d on (N, C) and (N, C, L) inputs, momentum 0.1 and 0.5, momentum None (cumulative average), eps 1e-3,
  affine False; three training steps then two evaluation steps, then one more training step (back to train mode);
- LayerNorm over the last one, two and three dimensions, eps 1e-2, elementwise_affine False; a training step and an
  evaluation step (LayerNorm has no mode: both must agree with the same formula).
"""
import json, os, sys
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "norm", "norm_cases.json")


def t(x):
    return {"shape": list(x.shape), "data": x.detach().reshape(-1).tolist()}


def run(module, shapes, modes, gen, scale=1.0):
    steps = []
    for shape, training in zip(shapes, modes):
        module.train(training)
        # Inputs with a non-zero mean and spread per feature, so normalisation has something to remove.
        x = (torch.randn(shape, generator=gen) * 2.5 * scale + 0.7).requires_grad_(True)
        gy = torch.randn(shape, generator=gen)
        for p in module.parameters():
            p.grad = None
        y = module(x)
        (y * gy).sum().backward()
        s = {"training": training, "input": t(x), "grad_output": t(gy), "output": t(y), "grad_input": t(x.grad)}
        if getattr(module, "weight", None) is not None:
            s["grad_weight"] = t(module.weight.grad)
            s["grad_bias"] = t(module.bias.grad)
        if isinstance(module, nn.BatchNorm1d):
            s["running_mean"] = t(module.running_mean)
            s["running_var"] = t(module.running_var)
            s["num_batches_tracked"] = int(module.num_batches_tracked)
        steps.append(s)
    return steps


def affine_init(module, gen):
    if getattr(module, "weight", None) is not None:
        with torch.no_grad():
            module.weight.copy_(1 + 0.5 * torch.randn(module.weight.shape, generator=gen))
            module.bias.copy_(0.3 * torch.randn(module.bias.shape, generator=gen))


def batchnorm_cases():
    cases = []
    T, E = True, False
    for name, c, shape, kw in [
        ("bn1d-2d", 4, (6, 4), {}),
        ("bn1d-3d", 3, (4, 3, 5), {}),
        ("bn1d-momentum-0.5-eps-1e-3", 5, (7, 5), {"momentum": 0.5, "eps": 1e-3}),
        ("bn1d-momentum-none", 4, (5, 4), {"momentum": None}),
        ("bn1d-momentum-none-3d", 2, (3, 2, 4), {"momentum": None}),
        ("bn1d-no-affine", 4, (6, 4), {"affine": False}),
        ("bn1d-batch-2", 3, (2, 3), {}),
    ]:
        gen = torch.Generator().manual_seed(len(cases) + 11)
        m = nn.BatchNorm1d(c, **kw)
        affine_init(m, gen)
        config = {"num_features": c, "eps": m.eps, "momentum": m.momentum, "affine": m.affine}
        init = {"weight": t(m.weight), "bias": t(m.bias)} if m.affine else {}
        modes = [T, T, T, E, E, T]
        shapes = [shape] * 3 + [(3,) + shape[1:]] * 2 + [shape]
        cases.append({"name": name, "module": "BatchNorm1d", "config": config, "init": init, "steps": run(m, shapes, modes, gen)})
    return cases


def layernorm_cases():
    cases = []
    for name, shape, norm, kw in [
        ("ln-last", (4, 6), [6], {}),
        ("ln-last-two", (2, 3, 4, 5), [4, 5], {}),
        ("ln-last-three", (2, 3, 4, 2), [3, 4, 2], {}),
        ("ln-eps-1e-2", (3, 2, 5), [5], {"eps": 1e-2}),
        ("ln-no-affine", (5, 7), [7], {"elementwise_affine": False}),
        ("ln-single-feature", (4, 1), [1], {}),
    ]:
        gen = torch.Generator().manual_seed(len(cases) + 101)
        m = nn.LayerNorm(norm, **kw)
        affine_init(m, gen)
        config = {"normalized_shape": norm, "eps": m.eps, "elementwise_affine": m.elementwise_affine}
        init = {"weight": t(m.weight), "bias": t(m.bias)} if m.elementwise_affine else {}
        cases.append({"name": name, "module": "LayerNorm", "config": config, "init": init, "steps": run(m, [shape, shape], [True, False], gen)})
    return cases


def main():
    data = {"torch": torch.__version__, "dtype": "float64", "cases": batchnorm_cases() + layernorm_cases()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT + ".tmp", "w") as f:
        json.dump(data, f, indent=None, separators=(",", ":"))
        f.write("\n")
    os.replace(OUT + ".tmp", OUT)
    print(f"wrote {len(data['cases'])} cases to {OUT}")


if __name__ == "__main__":
    main()
