#!/usr/bin/env python3
"""Port PyTorch's own loss tests into Kindling parity cases.

Usage:
    PYENV_VERSION=system python3 tools/parity/gen_torch_suite_cases.py [OUT_DIR]

Runs the loss test inputs that PyTorch 1.13 ships in torch/testing/_internal (Debian's python3-torch installs them
under /usr/lib/python3/dist-packages/torch/testing/_internal) and writes them, with PyTorch's answers, in the case
format of shared/parity/loss-cases.md:

- torch_suite_opinfo.jsonl: the sample_inputs, reference_inputs and error_inputs of every loss OpInfo in
  common_methods_invocations.op_db;
- torch_suite_common_nn.jsonl: criterion_tests and the loss entries of new_module_tests in common_nn;
- torch_suite_modules.jsonl: the module_inputs of the loss ModuleInfos in common_modules.module_db;
- torch_suite_deliberate.jsonl: Kindling's documented differences, one error case each.

test/test_nn.py is not installed by python3-torch, so its loss tests are not ported here.

Expected values come from gen_loss_cases.compute (float64 truth from the float32 inputs, PyTorch's float32 answer,
gradients of loss.sum(); an input PyTorch rejects becomes an error case). Inputs are cast to the format's dtypes
(float → float32, integer → int64; Python int lists → int64 tensors). Inputs that cannot be expressed in the format
(callables, the deprecated size_average/reduce, complex) are counted and skipped; the counts are printed.

Kindling's deliberate differences are error cases whose "why" starts with "Kindling rejects" (see DELIBERATE).
"""
import inspect
import json
import random
import os
import sys
import types
import unittest

# common_utils imports expecttest (a test-only dependency Debian does not package); only its TestCase base class and
# ACCEPT flag are touched at import time.
_stub = types.ModuleType("expecttest")
_stub.TestCase = unittest.TestCase
_stub.ACCEPT = False
sys.modules.setdefault("expecttest", _stub)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_loss_cases as g  # noqa: E402  (compute, enc_tensor, enc_opts: the shared case maths)

torch.set_num_threads(1)


def reseed(k):
    """The sample generators draw from torch's, Python's and NumPy's global generators: seed all three."""
    torch.manual_seed(k)
    random.seed(k)
    try:
        import numpy
        numpy.random.seed(k)
    except ImportError:
        pass

KNOWN = {
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "l1_loss",
    "smooth_l1_loss", "huber_loss", "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "hinge_embedding_loss", "margin_ranking_loss", "cosine_embedding_loss",
    "multi_margin_loss", "multilabel_margin_loss", "triplet_margin_loss", "ctc_loss",
}

# The positional tensor inputs of each functional, by the case format's names; every other argument is an option.
INPUTS = {
    "margin_ranking_loss": ["input1", "input2", "target"],
    "cosine_embedding_loss": ["input1", "input2", "target"],
    "triplet_margin_loss": ["anchor", "positive", "negative"],
    "ctc_loss": ["log_probs", "targets", "input_lengths", "target_lengths"],
    "gaussian_nll_loss": ["input", "target", "var"],
}

# nn.Module loss classes → functional name and the attributes that are the functional's options.
MODULES = {
    "L1Loss": ("l1_loss", []), "MSELoss": ("mse_loss", []), "SmoothL1Loss": ("smooth_l1_loss", ["beta"]),
    "HuberLoss": ("huber_loss", ["delta"]), "NLLLoss": ("nll_loss", ["weight", "ignore_index"]),
    "CrossEntropyLoss": ("cross_entropy", ["weight", "ignore_index", "label_smoothing"]),
    "KLDivLoss": ("kl_div", ["log_target"]), "BCELoss": ("binary_cross_entropy", ["weight"]),
    "BCEWithLogitsLoss": ("binary_cross_entropy_with_logits", ["weight", "pos_weight"]),
    "PoissonNLLLoss": ("poisson_nll_loss", ["log_input", "full", "eps"]), "GaussianNLLLoss": ("gaussian_nll_loss", ["full", "eps"]),
    "HingeEmbeddingLoss": ("hinge_embedding_loss", ["margin"]), "MultiLabelMarginLoss": ("multilabel_margin_loss", []),
    "SoftMarginLoss": ("soft_margin_loss", []), "MultiLabelSoftMarginLoss": ("multilabel_soft_margin_loss", ["weight"]),
    "CosineEmbeddingLoss": ("cosine_embedding_loss", ["margin"]), "MarginRankingLoss": ("margin_ranking_loss", ["margin"]),
    "MultiMarginLoss": ("multi_margin_loss", ["p", "margin", "weight"]),
    "TripletMarginLoss": ("triplet_margin_loss", ["margin", "p", "eps", "swap"]), "CTCLoss": ("ctc_loss", ["blank", "zero_infinity"]),
}

POINTWISE = {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss", "binary_cross_entropy", "kl_div",
             "poisson_nll_loss", "binary_cross_entropy_with_logits"}


def deliberate(loss, inputs):
    """Kindling's documented differences from PyTorch, as the 'why' of an error case (None: no difference)."""
    if loss in POINTWISE and "input" in inputs and "target" in inputs:
        a, b = tuple(inputs["input"].shape), tuple(inputs["target"].shape)
        if a != b:
            # PyTorch broadcasts (with a warning for mse/l1/...); a (N,1) prediction against an (N) target silently
            # becomes an (N,N) loss there, the classic regression bug, so Kindling requires equal shapes.
            return f"Kindling rejects {loss} with input {list(a)} and target {list(b)} of different shapes (PyTorch broadcasts them)"
    if loss == "ctc_loss" and inputs["targets"].is_floating_point():
        # PyTorch truncates float targets to class indices; a float label is almost always a mistake.
        return "Kindling rejects ctc_loss with float targets (PyTorch truncates them to integers)"
    return None


class Skip(Exception):
    pass


def to_case_tensor(v):
    if isinstance(v, torch.Tensor):
        if v.is_complex():
            raise Skip("complex")
        if v.is_floating_point():
            return v.detach().to(torch.float32)
        return v.detach().to(torch.int64)
    if isinstance(v, (list, tuple)) and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return torch.tensor(list(v), dtype=torch.int64)
    return None


def split(loss, args, kwargs):
    """Binds a call's arguments to the functional's signature; returns (inputs, options) in the case format."""
    fn = g.loss_fn(loss)
    bound = inspect.signature(fn).bind(*args, **kwargs)
    names = INPUTS.get(loss, ["input", "target"])
    inputs, opts = {}, {}
    for k, v in bound.arguments.items():
        if k in ("size_average", "reduce"):
            if v is not None:
                raise Skip("deprecated size_average/reduce")
            continue
        if k in names:
            t = to_case_tensor(v)
            if t is None:
                raise Skip(f"input {k} is {type(v).__name__}")
            inputs[k] = t
        elif isinstance(v, torch.Tensor):
            opts[k] = to_case_tensor(v)
        elif v is None or isinstance(v, (bool, int, float, str)):
            if v is not None:
                opts[k] = v
        else:
            raise Skip(f"option {k} is {type(v).__name__}")
    return inputs, opts


FILES = {}
SKIPPED = {}
IDS = set()
SEEN = set()
# Committed cases stay small: the largest CTC samples (~1 MB each) and common_nn's MSELoss_prec (10^7 elements) are left out.
MAX_CASE_CHARS = 300_000


def add(file, cid, loss, inputs, opts, torch_error=None):
    if loss not in KNOWN:
        SKIPPED[f"loss {loss}"] = SKIPPED.get(f"loss {loss}", 0) + 1
        return
    base, k = cid, 2
    while cid in IDS:  # noqa: B007
        cid = f"{base}-{k}"
        k += 1
    IDS.add(cid)
    enc_inputs = {k: g.enc_tensor(v) for k, v in inputs.items()}
    enc_options = g.enc_opts(opts)
    key = json.dumps([loss, enc_inputs, enc_options], sort_keys=True)
    if key in SEEN:  # reference_inputs repeat the sample_inputs
        skip("duplicate of an earlier case")
        return
    SEEN.add(key)
    if len(key) > MAX_CASE_CHARS:
        skip(f"larger than {MAX_CASE_CHARS} characters ({cid})")
        return
    why = deliberate(loss, inputs)
    if why is not None:
        expected = {"error": True, "why": why}
    else:
        expected = g.compute(loss, inputs, opts)
        if torch_error is not None and "error" not in expected:
            # error_inputs that only fail in a dtype or device the case format cannot express: a value case then.
            cid += "-value"
    FILES.setdefault(file, []).append({
        "id": cid, "loss": loss,
        "inputs": enc_inputs, "options": enc_options, "expected": expected,
    })


def skip(why):
    SKIPPED[why] = SKIPPED.get(why, 0) + 1


# ---------------------------------------------------------------------------- common_methods_invocations

def gen_opinfo():
    from torch.testing._internal.common_methods_invocations import op_db
    for op in op_db:
        if not op.name.startswith("nn.functional.") or not op.name.endswith("loss"):
            continue
        loss = op.name[len("nn.functional."):]
        for kind in ("sample", "reference", "error"):
            reseed(0)
            try:
                if kind == "sample":
                    items = list(op.sample_inputs("cpu", torch.float32, requires_grad=False))
                elif kind == "reference":
                    items = list(op.reference_inputs("cpu", torch.float32, requires_grad=False))
                else:
                    items = list(op.error_inputs("cpu")) if op.error_inputs_func is not None else []
            except Exception as e:  # noqa: BLE001
                skip(f"{loss} {kind}_inputs raised {type(e).__name__}")
                continue
            for i, item in enumerate(items):
                s = item.sample_input if kind == "error" else item
                try:
                    inputs, opts = split(loss, (s.input, *s.args), dict(s.kwargs))
                except (Skip, TypeError) as e:
                    skip(f"{loss}: {e}")
                    continue
                add("torch_suite_opinfo", f"opinfo-{loss}-{kind}-{i}", loss, inputs, opts,
                    torch_error=str(item.error_regex) if kind == "error" else None)


# ---------------------------------------------------------------------------- common_nn and common_modules

def module_call(module, args):
    name = type(module).__name__
    if name not in MODULES:
        raise Skip(f"module {name}")
    loss, attrs = MODULES[name]
    opts = {"reduction": module.reduction}
    for a in attrs:
        v = getattr(module, a, None)
        if v is not None:
            opts[a] = v
    fn = g.loss_fn(loss)
    params = [p for p in inspect.signature(fn).parameters]
    kwargs = dict(zip(params, args))
    for k, v in opts.items():
        kwargs.setdefault(k, v)
    return loss, kwargs


def record_call(module, inp):
    """Runs module(inp) and returns the first torch.nn.functional loss call it makes: (name, args, kwargs)."""
    calls = []
    saved = {}
    for name in KNOWN:
        fn = getattr(F, name)
        saved[name] = fn

        def wrapper(*a, __name=name, __fn=fn, **k):
            calls.append((__name, a, k))
            return __fn(*a, **k)
        setattr(F, name, wrapper)
    try:
        with torch.no_grad():
            module(*(inp if isinstance(inp, (tuple, list)) else (inp,)))
    finally:
        for name, fn in saved.items():
            setattr(F, name, fn)
    if not calls:
        raise Skip("the module made no loss call")
    name, a, k = calls[0]
    return name, a, k


def gen_common_nn():
    from torch.testing._internal import common_nn
    tests = list(common_nn.criterion_tests) + [t for t in common_nn.new_module_tests if "Loss" in t.get("module_name", "") + t.get("fullname", "")]
    for i, t in enumerate(tests):
        reseed(i)
        try:
            name = t.get("module_name") or t["fullname"].split("_")[0]
            if "constructor" in t:
                module = t["constructor"](*t.get("constructor_args", ()))
            else:
                module = getattr(nn, name)(*t.get("constructor_args", ()), **t.get("constructor_kwargs", {}))
            if "input_fn" in t:
                inp = t["input_fn"]()
            elif "input_size" in t:
                inp = torch.randn(t["input_size"])
            elif "input" in t:
                inp = t["input"]
            else:
                raise Skip("no input")
            if not any(k in t for k in ("target_fn", "target", "target_size")):
                # The *_no_reduce tests wrap a functional call in a module (wrap_functional) with the target captured
                # in the closure: record the call the module makes instead.
                loss, args, kwargs = record_call(module, inp)
                inputs, opts = split(loss, args, kwargs)
                desc = t.get("fullname") or t.get("module_name", "")
                add("torch_suite_common_nn", f"common_nn-{desc}", loss, inputs, opts)
                continue
            if "target_fn" in t:
                target = t["target_fn"]()
            elif "target" in t:
                target = t["target"]
            elif "target_size" in t:
                target = torch.randn(t["target_size"])
            else:
                raise Skip("no target")
            inps = list(inp) if isinstance(inp, (tuple, list)) else [inp]
            extra = list(t.get("extra_args", ()))
            loss, kwargs = module_call(module, inps + [target] + extra)
            inputs, opts = split(loss, (), kwargs)
        except (Skip, TypeError, AttributeError, KeyError) as e:
            skip(f"common_nn: {e}")
            continue
        desc = t.get("fullname") or (t.get("module_name", "") + ("_" + t["desc"] if "desc" in t else ""))
        add("torch_suite_common_nn", f"common_nn-{desc}", loss, inputs, opts)


def gen_modules():
    from torch.testing._internal.common_modules import module_db
    for info in module_db:
        if not info.name.endswith("Loss"):
            continue
        reseed(0)
        try:
            mis = info.module_inputs_func(info, device="cpu", dtype=torch.float32, requires_grad=False, training=True)
        except Exception as e:  # noqa: BLE001
            skip(f"{info.name} module_inputs raised {type(e).__name__}")
            continue
        for j, mi in enumerate(mis):
            try:
                ctor, fwd = mi.constructor_input, mi.forward_input
                if fwd is None:
                    raise Skip("no forward input")
                module = info.module_cls(*ctor.args, **ctor.kwargs)
                if fwd.kwargs:
                    raise Skip("forward kwargs")
                loss, kwargs = module_call(module, list(fwd.args))
                inputs, opts = split(loss, (), kwargs)
            except (Skip, TypeError, AttributeError) as e:
                skip(f"{info.name}: {e}")
                continue
            add("torch_suite_modules", f"modules-{info.name}-{j}", loss, inputs, opts)


def gen_deliberate():
    """Each documented difference from PyTorch, asserted by a case (PyTorch's answer would be a silent broadcast)."""
    reseed(0)
    for loss in sorted(POINTWISE):
        x = torch.rand(4, 1) if loss in ("binary_cross_entropy",) else torch.randn(4, 1)
        t = torch.rand(4) if loss in ("binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div") else torch.randn(4)
        if loss == "poisson_nll_loss":
            t = t.abs()
        for a, b, tag in ((x, t, "n1-vs-n"), (t, x, "n-vs-n1")):
            add("torch_suite_deliberate", f"deliberate-{loss}-{tag}", loss, {"input": a, "target": b}, {"reduction": "mean"})


def gen_corners():
    """Corners from test_nn.py's loss tests and the issue-12 review that the sample inputs above do not reach."""
    reseed(1)
    F32, I64 = torch.float32, torch.int64
    x = torch.randn(4, 3)
    # Total weight zero: every target ignored, or every target's class weight 0 (the mean is 0/0 = NaN, so are the grads).
    for loss in ("nll_loss", "cross_entropy"):
        inp = x.log_softmax(1) if loss == "nll_loss" else x
        for red in ("mean", "sum", "none"):
            add("torch_suite_corners", f"corners-{loss}-all-ignored-{red}", loss, {"input": inp, "target": torch.full((4,), -100, dtype=I64)}, {"reduction": red})
            add("torch_suite_corners", f"corners-{loss}-zero-weights-{red}", loss, {"input": inp, "target": torch.tensor([0, 1, 1, 0])},
                {"reduction": red, "weight": torch.tensor([0.0, 0.0, 1.0])})
    # multilabel_margin_loss on an empty batch ('none' only: PyTorch 1.13's sum and mean of it return uninitialised memory).
    for red in ("none",):
        add("torch_suite_corners", f"corners-multilabel_margin-empty-{red}", "multilabel_margin_loss",
            {"input": torch.zeros(0, 3), "target": torch.zeros(0, 3, dtype=I64)}, {"reduction": red})
    # CTC: lengths must be integers; log_probs must not be empty in time.
    lp = torch.randn(5, 2, 4).log_softmax(2)
    tg = torch.tensor([[1, 2], [3, 1]])
    il, tl = torch.tensor([5, 4]), torch.tensor([2, 1])
    add("torch_suite_corners", "corners-ctc-float-input-lengths", "ctc_loss", {"log_probs": lp, "targets": tg, "input_lengths": il.to(F32), "target_lengths": tl}, {})
    add("torch_suite_corners", "corners-ctc-float-target-lengths", "ctc_loss", {"log_probs": lp, "targets": tg, "input_lengths": il, "target_lengths": tl.to(F32)}, {})
    add("torch_suite_corners", "corners-ctc-float-targets", "ctc_loss", {"log_probs": lp, "targets": tg.to(F32), "input_lengths": il, "target_lengths": tl}, {})
    for red in ("none", "sum", "mean"):
        add("torch_suite_corners", f"corners-ctc-empty-time-{red}", "ctc_loss",
            {"log_probs": torch.zeros(0, 2, 4), "targets": tg, "input_lengths": torch.tensor([0, 0]), "target_lengths": torch.tensor([0, 0])},
            {"reduction": red, "zero_infinity": False})
        add("torch_suite_corners", f"corners-ctc-empty-batch-{red}", "ctc_loss",
            {"log_probs": torch.zeros(5, 0, 4), "targets": torch.zeros(0, 2, dtype=I64), "input_lengths": torch.zeros(0, dtype=I64), "target_lengths": torch.zeros(0, dtype=I64)},
            {"reduction": red})


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
    gen_opinfo()
    gen_common_nn()
    gen_modules()
    gen_deliberate()
    gen_corners()
    for name, cases in sorted(FILES.items()):
        with open(os.path.join(out, name + ".jsonl"), "w") as f:
            for c in cases:
                f.write(json.dumps(c, separators=(",", ":")) + "\n")
        errs = sum(1 for c in cases if c["expected"].get("error"))
        print(f"{name}: {len(cases)} cases ({errs} error cases)")
    print(f"skipped {sum(SKIPPED.values())}:")
    for k, v in sorted(SKIPPED.items(), key=lambda kv: -kv[1]):
        print(f"  {v:4d}  {k}")


if __name__ == "__main__":
    main()
