"""PyTorch 1.13 values and gradients of Kindling's elementwise activations, for tests/Kindling.Tests/ActivationParityTests.cs.

Usage: PYENV_VERSION=system python3 tools/parity/gen_activations.py [OUT]   (default tools/parity/activations.json)

For each activation (hardswish, mish, silu, relu, sigmoid, tanh, softplus, gelu) and each dtype (float64, float32), the
output y = f(x) and the gradient of sum(y * w) for fixed weights w, on fixed inputs: the kinks and edges of each
function (hardswish's ±3, 0, ±0), tiny and large magnitudes, and 200 seeded random values in [-12, 12]. float32 values are
PyTorch's own float32 results (its CPU kernels); float32 cases also carry the float64 truth at their float32 inputs
(y64, grad64), so a test can judge Kindling's float32 error against PyTorch's float32 error.
"""
import json, os, sys
import torch
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "activations.json")
EDGES = [0.0, -0.0, 1e-7, -1e-7, 1e-30, -1e-30, 0.5, -0.5, 1.0, -1.0, -1.5, 2.9999998, 3.0, 3.0000002, -3.0, -3.0000002,
         -2.9999998, 6.0, -6.0, 20.0, -20.0, 40.0, -40.0, 88.0, -87.0, -100.0, 100.0]
FUNCS = {
    "hardswish": F.hardswish, "mish": F.mish, "silu": F.silu, "relu": F.relu, "sigmoid": torch.sigmoid,
    "tanh": torch.tanh, "softplus": F.softplus, "gelu": F.gelu,
}


def main():
    g = torch.Generator().manual_seed(2024)
    rand = (torch.rand(200, generator=g, dtype=torch.float64) * 24 - 12).tolist()
    xs = EDGES + rand
    w = (torch.rand(len(xs), generator=g, dtype=torch.float64) * 4 - 2).tolist()
    cases = []
    for name, f in FUNCS.items():
        for dt, dname in [(torch.float64, "float64"), (torch.float32, "float32")]:
            x = torch.tensor(xs, dtype=dt, requires_grad=True)
            wt = torch.tensor(w, dtype=dt)
            y = f(x)
            (y * wt).sum().backward()
            # float32 values are written through float64 exactly (every float32 is a float64).
            case = {"name": name, "dtype": dname, "x": x.detach().double().tolist(), "w": wt.double().tolist(),
                    "y": y.detach().double().tolist(), "grad": x.grad.double().tolist()}
            if dt == torch.float32:
                # The float64 truth at the float32 inputs and weights, to judge float32 results by.
                x64 = x.detach().double().requires_grad_()
                y64 = f(x64)
                (y64 * wt.double()).sum().backward()
                case["y64"] = y64.detach().tolist()
                case["grad64"] = x64.grad.tolist()
            cases.append(case)
    with open(OUT, "w") as fh:
        json.dump({"torch": torch.__version__, "cases": cases}, fh, allow_nan=True)
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
