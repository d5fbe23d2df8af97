#!/usr/bin/env python3
"""Edge cases of the convolution family that PyTorch 1.13's module_db/op_db samples exercise and Kindling once got
wrong (issue 23): padding wider than the input, empty batches, negative (cropping) pads in every mode, unbatched fold,
divisor_override < 0, adaptive pooling with None, and the inputs PyTorch refuses.

Usage: PYENV_VERSION=system python3 tools/parity/gen_conv_edge_cases.py  → tools/parity/conv_edge/cases.json

Each case: op, args, input (shape + float64 values from float32 draws), PyTorch's float64 output and the input gradient
of (out * gout).sum(), with the module's parameters when it has any; or "error": a fragment of PyTorch's message
(Kindling's own wording differs; the test checks that Kindling refuses too).
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(23)
torch.set_num_threads(1)
CASES = []


def t(*shape):
    return torch.randn(*shape, dtype=torch.float32).double()


def enc(x):
    return {"shape": list(x.shape), "values": x.detach().reshape(-1).tolist()}


def case(cid, op, args, x, make):
    """make(x) -> (module or None, output)."""
    x = x.clone().requires_grad_(True)
    try:
        module, y = make(x)
    except Exception as e:  # PyTorch refuses: an error case
        CASES.append({"id": cid, "op": op, "args": args, "input": enc(x), "error": str(e).split("\n")[0][:200]})
        return
    gout = torch.randn(y.shape, dtype=torch.float32).double()
    if y.numel() > 0:
        (y * gout).sum().backward()
    grad = x.grad if x.grad is not None else torch.zeros_like(x)
    c = {"id": cid, "op": op, "args": args, "input": enc(x), "out": enc(y), "gout": enc(gout), "grad": enc(grad), "params": {}}
    if module is not None:
        c["params"] = {k: enc(v) for k, v in module.state_dict().items() if v.dtype == torch.float64}
    CASES.append(c)


def conv1d(cid, cin, cout, k, x, **kw):
    def make(x):
        m = nn.Conv1d(cin, cout, k, **kw).double()
        return m, m(x)
    case(cid, "conv1d", {"in_channels": cin, "out_channels": cout, "kernel_size": k, **kw}, x, make)


def conv2d(cid, cin, cout, k, x, **kw):
    def make(x):
        m = nn.Conv2d(cin, cout, k, **kw).double()
        return m, m(x)
    case(cid, "conv2d", {"in_channels": cin, "out_channels": cout, "kernel_size": list(k), **{a: list(v) if isinstance(v, tuple) else v for a, v in kw.items()}}, x, make)


def main():
    # Padding wider than the image: kernel columns that touch only padding (im2col's empty ranges), forward and backward.
    conv1d("conv1d_k5_p2_len1", 4, 4, 5, t(1, 4, 1), padding=2)
    conv1d("conv1d_k5_p4_len2_s2", 2, 3, 5, t(2, 2, 2), padding=4, stride=2)
    conv1d("conv1d_k5_same_len1", 2, 2, 5, t(1, 2, 1), padding="same")
    conv1d("conv1d_k3_d3_same_len2", 2, 2, 3, t(1, 2, 2), padding="same", dilation=3)
    conv2d("conv2d_k1x5_p0x2_1x1", 3, 2, (1, 5), t(1, 3, 1, 1), padding=(0, 2))
    conv2d("conv2d_k5x5_p3_2x1", 2, 2, (5, 5), t(1, 2, 2, 1), padding=(3, 3))
    # Empty batches and inputs.
    for training in (True, False):
        def bn(x, training=training):
            m = nn.BatchNorm2d(3).double()
            m.train(training)
            return m, m(x)
        case(f"batch_norm2d_empty_batch_{'train' if training else 'eval'}", "batch_norm2d", {"num_features": 3, "training": training}, t(0, 3, 2, 2), bn)
    case("batch_norm_empty_1d", "batch_norm_fn", {"training": True}, t(0), lambda x: (None, F.batch_norm(x, None, None, training=True)))
    # Negative (cropping) pads in every mode.
    for mode in ("constant", "reflect", "replicate", "circular"):
        for i, pad in enumerate([(-1, 2), (2, -1), (-1, -1), (-2, 3), (-1, 1, 1, -1)]):
            x = t(1, 2, 5) if len(pad) == 2 else t(1, 1, 4, 4)
            case(f"pad_{mode}_negative_{i}", "pad", {"pad": list(pad), "mode": mode}, x, lambda x, pad=pad, mode=mode: (None, F.pad(x, pad, mode=mode)))
    # Unbatched fold (C·k, L).
    case("fold_unbatched", "fold", {"output_size": [3, 3], "kernel_size": [2, 2]}, t(4 * 2, 4), lambda x: (None, F.fold(x, (3, 3), (2, 2))))
    # divisor_override < 0 (PyTorch rejects only 0).
    case("avg_pool2d_divisor_neg2", "avg_pool2d", {"kernel_size": [2, 2], "divisor_override": -2}, t(1, 2, 4, 4), lambda x: (None, F.avg_pool2d(x, 2, divisor_override=-2)))
    case("avg_pool2d_divisor_0", "avg_pool2d", {"kernel_size": [2, 2], "divisor_override": 0}, t(1, 2, 4, 4), lambda x: (None, F.avg_pool2d(x, 2, divisor_override=0)))
    # AdaptiveAvgPool2d with None keeps that dimension.
    for i, size in enumerate([(None, 2), (2, None), (None, None)]):
        case(f"adaptive_avg_pool2d_none_{i}", "adaptive_avg_pool2d_none", {"output_size": list(size)}, t(1, 2, 3, 5),
             lambda x, size=size: (None, nn.AdaptiveAvgPool2d(size)(x)))
    # max_pool1d: empty batch fine, an unbatched input with zero channels refused.
    case("max_pool1d_empty_batch", "max_pool1d", {"kernel_size": 2}, t(0, 3, 4), lambda x: (None, F.max_pool1d(x, 2)))
    case("max_pool1d_unbatched_zero_channels", "max_pool1d", {"kernel_size": 2}, t(0, 4), lambda x: (None, F.max_pool1d(x, 2)))
    # Inputs PyTorch refuses: non-positive stride, negative padding, a kernel longer than the padded input.
    conv1d("conv1d_stride_neg", 4, 4, 3, t(1, 4, 5), stride=-1)
    conv1d("conv1d_kernel_longer", 4, 4, 3, t(1, 4, 2))
    conv1d("conv1d_empty_length", 4, 4, 3, t(1, 4, 0))

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_edge", "cases.json")
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "cases": CASES}, f, indent=0)
    print(f"{len(CASES)} cases ({sum('error' in c for c in CASES)} errors) -> {out}")


if __name__ == "__main__":
    main()
