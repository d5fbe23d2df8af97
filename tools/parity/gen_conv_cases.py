"""Generate PyTorch 1.13 reference cases for Kindling's convolution, pooling, padding and normalisation layers.

Usage: PYENV_VERSION=system python3 tools/parity/gen_conv_cases.py [OUT_DIR]   (default tools/parity/conv)

Writes OUT_DIR/cases.json (one entry per case: id, op, arguments, which tensors it has) and OUT_DIR/tensors.safetensors
holding, per case <id>: the inputs and parameters (float32 values), "<id>.gout" (the upstream gradient), "<id>.out"
and "<id>.grad.<name>" for every input and parameter, computed in float64 from the same float32 values, so Kindling
can be checked exactly in float64 and within rounding in float32. Modules are built with torch.nn and their own
initialisation; the weights they drew are stored. The grid covers kernel 1/3/5 and non-square, stride 1/2,
padding 0/1/same/valid, dilation 1/2, groups 1/2/C, batch 1 and >1, channels 1/3/64, odd sizes, every padding_mode,
ceil_mode, count_include_pad, divisor_override, BatchNorm2d's running statistics (momentum 0.1, 0.3, None) in
training and evaluation.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import save_file  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)
CASES, TENSORS = [], {}


def f32(*shape):
    return torch.randn(*shape).float()


def record(cid, op, args, inputs, params, fn):
    """inputs/params: dict name -> float32 tensor. fn(inputs64, params64) -> output (float64)."""
    for k, v in list(inputs.items()) + list(params.items()):
        TENSORS[f"{cid}.{k}"] = v.float().contiguous()
    xs = {k: v.double().clone().requires_grad_(v.is_floating_point()) for k, v in inputs.items()}
    ps = {k: v.double().clone().requires_grad_(True) for k, v in params.items()}
    out = fn(xs, ps)
    extra = {}
    if isinstance(out, tuple):
        out, extra = out
    gout = torch.randn(out.shape).float()
    (out * gout.double()).sum().backward()
    TENSORS[f"{cid}.gout"] = gout
    TENSORS[f"{cid}.out"] = out.detach().double().contiguous()
    for k, v in list(xs.items()) + list(ps.items()):
        if v.grad is not None:
            TENSORS[f"{cid}.grad.{k}"] = v.grad.double().contiguous()
    for k, v in extra.items():
        TENSORS[f"{cid}.{k}"] = v.detach().contiguous()
    CASES.append({"id": cid, "op": op, "args": args, "inputs": list(inputs), "params": list(params), "extra": list(extra)})


def module_case(cid, op, args, module, x):
    params = {k: v.detach().float() for k, v in module.named_parameters()}

    def fn(xs, ps):
        m = module.double()
        with torch.no_grad():
            for k, p in m.named_parameters():
                p.copy_(ps[k])
        # route gradients to ps: functional call with the double parameters
        return torch.nn.utils.stateless.functional_call(m, ps, (xs["input"],))
    record(cid, op, args, {"input": x}, params, fn)


def pair(v):
    return list(v) if isinstance(v, tuple) else v


def conv2d_cases():
    grid = [
        # N, C, H, W, O, k, stride, padding, dilation, groups, bias, padding_mode
        (2, 3, 7, 9, 4, 3, 1, 0, 1, 1, True, "zeros"),
        (1, 1, 5, 5, 2, 1, 1, 0, 1, 1, True, "zeros"),
        (3, 3, 11, 6, 6, 5, 2, 1, 1, 1, True, "zeros"),
        (2, 3, 9, 8, 4, (3, 5), 1, "same", 1, 1, False, "zeros"),
        (2, 4, 8, 7, 4, 3, 2, 1, 2, 2, True, "zeros"),
        (2, 64, 5, 5, 64, 3, 1, 1, 1, 64, True, "zeros"),
        (2, 64, 5, 6, 32, 1, 1, 0, 1, 1, True, "zeros"),
        (1, 3, 10, 10, 6, 3, 2, "valid", 1, 3, True, "zeros"),
        (2, 2, 7, 7, 4, 4, 1, "same", 2, 1, True, "zeros"),
        (2, 3, 6, 9, 5, (1, 3), (2, 1), (0, 1), 1, 1, True, "zeros"),
        (2, 3, 7, 7, 4, 3, 1, 1, 1, 1, True, "reflect"),
        (2, 3, 7, 7, 4, 3, 2, (1, 2), 1, 1, True, "replicate"),
        (1, 2, 6, 5, 4, 3, 1, 2, 1, 2, True, "circular"),
        (4, 64, 6, 6, 16, 3, 1, 1, 1, 1, True, "zeros"),
        (3, 1, 28, 28, 8, 5, 1, 2, 1, 1, True, "zeros"),
        (2, 6, 9, 9, 6, 3, 2, 1, 1, 2, False, "zeros"),
        (1, 3, 5, 5, 2, 5, 1, 0, 1, 1, True, "zeros"),
        (2, 3, 8, 7, 3, 3, 1, "same", 1, 3, True, "reflect"),
        (2, 2, 9, 9, 4, (5, 3), 2, 0, (2, 1), 1, True, "zeros"),
    ]
    for i, (n, c, h, w, o, k, s, p, d, g, b, mode) in enumerate(grid):
        m = nn.Conv2d(c, o, k, stride=s, padding=p, dilation=d, groups=g, bias=b, padding_mode=mode)
        args = dict(in_channels=c, out_channels=o, kernel_size=pair(k), stride=pair(s), padding=pair(p), dilation=pair(d),
                    groups=g, bias=b, padding_mode=mode, input_shape=[n, c, h, w])
        module_case(f"conv2d_{i}", "conv2d", args, m, f32(n, c, h, w))


def conv1d_cases():
    grid = [
        (2, 3, 11, 4, 3, 1, 0, 1, 1, True, "zeros"),
        (1, 4, 9, 4, 5, 2, 2, 1, 2, True, "zeros"),
        (2, 2, 8, 4, 4, 1, "same", 2, 1, False, "zeros"),
        (3, 6, 7, 6, 3, 1, 1, 1, 6, True, "zeros"),
        (2, 3, 10, 2, 3, 1, 2, 1, 1, True, "reflect"),
        (1, 64, 6, 8, 1, 1, 0, 1, 1, True, "zeros"),
    ]
    for i, (n, c, l, o, k, s, p, d, g, b, mode) in enumerate(grid):
        m = nn.Conv1d(c, o, k, stride=s, padding=p, dilation=d, groups=g, bias=b, padding_mode=mode)
        args = dict(in_channels=c, out_channels=o, kernel_size=k, stride=s, padding=p, dilation=d, groups=g, bias=b,
                    padding_mode=mode, input_shape=[n, c, l])
        module_case(f"conv1d_{i}", "conv1d", args, m, f32(n, c, l))


def conv_transpose2d_cases():
    grid = [
        # N, Cin, H, W, Cout, k, stride, padding, output_padding, groups, dilation, bias
        (2, 3, 4, 5, 2, 3, 1, 0, 0, 1, 1, True),
        (2, 4, 3, 3, 6, 3, 2, 1, 1, 2, 1, True),
        (1, 2, 5, 4, 3, (2, 3), (2, 1), (0, 1), (1, 0), 1, 1, False),
        (2, 4, 3, 4, 4, 3, 2, 1, 0, 4, 2, True),
        (2, 16, 4, 4, 8, 4, 2, 1, 0, 1, 1, True),
        (1, 1, 3, 3, 1, 1, 1, 0, 0, 1, 1, True),
    ]
    for i, (n, c, h, w, o, k, s, p, op, g, d, b) in enumerate(grid):
        m = nn.ConvTranspose2d(c, o, k, stride=s, padding=p, output_padding=op, groups=g, bias=b, dilation=d)
        args = dict(in_channels=c, out_channels=o, kernel_size=pair(k), stride=pair(s), padding=pair(p),
                    output_padding=pair(op), groups=g, dilation=pair(d), bias=b, input_shape=[n, c, h, w])
        module_case(f"convT2d_{i}", "conv_transpose2d", args, m, f32(n, c, h, w))


def pool_cases():
    for i, (n, c, h, w, k, s, p, d, ceil) in enumerate([
        (2, 3, 7, 9, 2, None, 0, 1, False),
        (2, 3, 7, 9, 3, 2, 1, 1, True),
        (1, 2, 8, 8, (2, 3), (1, 2), (1, 1), (2, 1), True),
        (2, 2, 5, 5, 3, 3, 1, 1, True),
        (1, 64, 6, 6, 2, 2, 0, 1, False),
        (2, 1, 9, 10, 3, 2, 0, 2, True),
        (1, 3, 6, 6, 2, 2, 1, 1, True),
    ]):
        args = dict(kernel_size=pair(k), stride=pair(s), padding=pair(p), dilation=pair(d), ceil_mode=ceil, input_shape=[n, c, h, w])

        def fn(xs, ps, k=k, s=s, p=p, d=d, ceil=ceil):
            y, idx = F.max_pool2d(xs["input"], k, s, p, d, ceil_mode=ceil, return_indices=True)
            return y, {"indices": idx}
        record(f"maxpool2d_{i}", "max_pool2d", args, {"input": f32(n, c, h, w)}, {}, fn)
    for i, (n, c, l, k, s, p, d, ceil) in enumerate([
        (2, 3, 11, 3, 2, 1, 1, True),
        (1, 2, 10, 2, None, 0, 1, False),
        (2, 2, 9, 3, 1, 1, 2, False),
    ]):
        args = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil, input_shape=[n, c, l])

        def fn(xs, ps, k=k, s=s, p=p, d=d, ceil=ceil):
            y, idx = F.max_pool1d(xs["input"], k, s, p, d, ceil_mode=ceil, return_indices=True)
            return y, {"indices": idx}
        record(f"maxpool1d_{i}", "max_pool1d", args, {"input": f32(n, c, l)}, {}, fn)
    for i, (n, c, h, w, k, s, p, ceil, cip, div) in enumerate([
        (2, 3, 7, 9, 2, None, 0, False, True, None),
        (2, 3, 7, 9, 3, 2, 1, True, True, None),
        (2, 3, 7, 9, 3, 2, 1, True, False, None),
        (1, 2, 6, 5, (3, 2), (2, 1), (1, 1), False, False, None),
        (1, 2, 5, 5, 2, 2, 0, True, True, 3),
        (1, 64, 5, 5, 3, 1, 1, False, True, None),
    ]):
        args = dict(kernel_size=pair(k), stride=pair(s), padding=pair(p), ceil_mode=ceil, count_include_pad=cip,
                    divisor_override=div, input_shape=[n, c, h, w])
        record(f"avgpool2d_{i}", "avg_pool2d", args, {"input": f32(n, c, h, w)}, {},
               lambda xs, ps, k=k, s=s, p=p, ceil=ceil, cip=cip, div=div: F.avg_pool2d(xs["input"], k, s, p, ceil, cip, div))
    for i, (n, c, h, w, o) in enumerate([(2, 3, 7, 9, (3, 4)), (1, 2, 5, 5, 1), (2, 2, 6, 6, (2, 3)), (1, 3, 10, 7, (4, 3)), (1, 2, 3, 3, (5, 4))]):
        args = dict(output_size=pair(o), input_shape=[n, c, h, w])
        record(f"adaptiveavg_{i}", "adaptive_avg_pool2d", args, {"input": f32(n, c, h, w)}, {},
               lambda xs, ps, o=o: F.adaptive_avg_pool2d(xs["input"], o))


def batchnorm_cases():
    """Three training steps (each recording the output and the running statistics), then one in evaluation mode;
    gradients are those of the last training step."""
    for i, (n, c, h, w, mom, affine) in enumerate([(4, 3, 5, 5, 0.1, True), (2, 4, 3, 3, None, True), (3, 2, 4, 5, 0.3, False)]):
        m = nn.BatchNorm2d(c, momentum=mom, affine=affine).double()
        if affine:
            with torch.no_grad():
                m.weight.copy_(torch.rand(c) + 0.5)
                m.bias.copy_(torch.randn(c) * 0.3)
        params = {k: v.detach().float() for k, v in m.named_parameters()}
        with torch.no_grad():
            for k, p in m.named_parameters():
                p.copy_(params[k].double())
        cid = f"batchnorm2d_{i}"
        args = dict(num_features=c, momentum=mom, affine=affine, input_shape=[n, c, h, w], steps=3)
        extra = {}
        for step in range(2):
            x = f32(n, c, h, w) * 2 + 1
            TENSORS[f"{cid}.step{step}.input"] = x
            extra[f"step{step}.out"] = m(x.double())
        xe = f32(n, c, h, w)
        TENSORS[f"{cid}.eval.input"] = xe

        def fn(xs, ps, m=m, xe=xe):
            y = torch.nn.utils.stateless.functional_call(m, ps, (xs["input"],))
            m.eval()
            ye = m(xe.double())
            m.train()
            return y, {"eval.out": ye, "running_mean": m.running_mean.clone(), "running_var": m.running_var.clone(),
                       "num_batches_tracked": m.num_batches_tracked.clone()}
        x = f32(n, c, h, w) * 2 + 1
        record(cid, "batch_norm2d", args, {"input": x}, params, fn)
        CASES[-1]["extra"] += [f"step{s}.out" for s in range(2)]
        for k, v in extra.items():
            TENSORS[f"{cid}.{k}"] = v.detach()


def tensor_op_cases():
    for i, (shape, pad, mode, value) in enumerate([
        ((2, 3, 4, 5), (1, 2, 0, 1), "constant", 0.5),
        ((2, 3, 4, 5), (-1, 2, 1, -1), "constant", 0.0),
        ((1, 2, 4, 5), (2, 3, 1, 3), "reflect", 0.0),
        ((1, 2, 4, 5), (3, 1, 2, 0), "replicate", 0.0),
        ((2, 3, 6), (2, 3), "reflect", 0.0),
        ((1, 2, 4, 5), (2, 1, 1, 3), "circular", 0.0),
        ((2, 3, 6), (1, 2), "replicate", 0.0),
    ]):
        args = dict(pad=list(pad), mode=mode, value=value, input_shape=list(shape))
        record(f"pad_{i}", "pad", args, {"input": f32(*shape)}, {},
               lambda xs, ps, pad=pad, mode=mode, value=value: F.pad(xs["input"], pad, mode, value) if mode == "constant" else F.pad(xs["input"], pad, mode))
    for i, (shape, k, d, p, s) in enumerate([((2, 3, 6, 7), (2, 3), 1, 0, 1), ((1, 2, 7, 7), 3, 2, 1, 2), ((2, 1, 5, 4), (1, 2), (2, 1), (1, 0), (1, 2))]):
        args = dict(kernel_size=pair(k), dilation=pair(d), padding=pair(p), stride=pair(s), input_shape=list(shape))
        record(f"unfold_{i}", "unfold", args, {"input": f32(*shape)}, {},
               lambda xs, ps, k=k, d=d, p=p, s=s: F.unfold(xs["input"], k, d, p, s))
        cols = F.unfold(torch.zeros(shape), k, d, p, s)
        args = dict(output_size=list(shape[2:]), kernel_size=pair(k), dilation=pair(d), padding=pair(p), stride=pair(s),
                    input_shape=list(cols.shape))
        record(f"fold_{i}", "fold", args, {"input": f32(*cols.shape)}, {},
               lambda xs, ps, shape=shape, k=k, d=d, p=p, s=s: F.fold(xs["input"], shape[2:], k, d, p, s))


def main():
    conv2d_cases()
    conv1d_cases()
    conv_transpose2d_cases()
    pool_cases()
    batchnorm_cases()
    tensor_op_cases()
    save_file(TENSORS, os.path.join(OUT, "tensors.safetensors"), metadata={"written_by": f"torch {torch.__version__}"})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": CASES}, f, indent=1)
    size = os.path.getsize(os.path.join(OUT, "tensors.safetensors"))
    print(f"{len(CASES)} cases, {len(TENSORS)} tensors, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
