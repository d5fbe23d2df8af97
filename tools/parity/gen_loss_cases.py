#!/usr/bin/env python3
"""Generate PyTorch loss-parity cases for Kindling.

Usage:
    PYENV_VERSION=system python3 tools/parity/gen_loss_cases.py [OUT_DIR]

OUT_DIR defaults to tools/parity/cases. Writes one JSON Lines file per loss
family (cross_entropy.jsonl, nll_loss.jsonl, bce.jsonl, regression.jsonl, ...)
plus a tiny smoke.jsonl, in the format of /work/shared/parity/loss-cases.md:

- inputs are float32 (int64 for class targets / lengths);
- expected.loss / expected.grads are computed by torch in float64 from the
  float32 inputs cast to double (grads of loss.sum());
- expected.loss32 / expected.grads32 are torch's own float32 answers;
- grads are listed only for inputs torch actually differentiates (a float
  input whose requires_grad torch refuses, or whose .grad stays None, is
  omitted);
- error cases ({"error": true, "why": ...}) are either inputs torch rejects
  (why = torch's message) or inputs Kindling deliberately rejects although
  torch accepts them (why starts with "Kindling rejects").

Output is deterministic: every case family is seeded from a CRC of its id.
Written against PyTorch 1.13 (Debian python3-torch).
"""
import json
import math
import os
import re
import sys
import warnings
import zlib

import torch
import torch.nn.functional as F

warnings.simplefilter("ignore")
torch.set_num_threads(1)  # keep float32 reductions deterministic

R3 = ("none", "mean", "sum")

# ----------------------------------------------------------------------------
# random data (seeded per case family)
# ----------------------------------------------------------------------------
_gen = torch.Generator()


def seed(name):
    _gen.manual_seed(zlib.crc32(name.encode()))


def randn(*shape, scale=1.0):
    return (torch.randn(shape, generator=_gen) * scale).float()


def rand(*shape, lo=0.0, hi=1.0):
    return (torch.rand(shape, generator=_gen) * (hi - lo) + lo).float()


def randint(lo, hi, *shape):
    return torch.randint(lo, hi, shape, generator=_gen, dtype=torch.int64)


def sign(*shape):
    return (torch.randint(0, 2, shape, generator=_gen) * 2 - 1).float()


def bits(*shape):
    return torch.randint(0, 2, shape, generator=_gen).float()


def probs(*shape, dim=1):
    return randn(*shape, scale=1.5).softmax(dim)


def f32(x):
    return torch.tensor(x, dtype=torch.float32)


def i64(x):
    return torch.tensor(x, dtype=torch.int64)


# ----------------------------------------------------------------------------
# loss functions
# ----------------------------------------------------------------------------
def sigmoid_focal_loss(input, target, alpha=0.25, gamma=2.0, reduction="none"):
    """torchvision.ops.sigmoid_focal_loss (torchvision 0.14), verbatim maths."""
    p = torch.sigmoid(input)
    ce_loss = F.binary_cross_entropy_with_logits(input, target, reduction="none")
    p_t = p * target + (1 - p) * (1 - target)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * target + (1 - alpha) * (1 - target)
        loss = alpha_t * loss
    if reduction == "none":
        pass
    elif reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    else:
        raise ValueError(
            f"Invalid Value for arg 'reduction': '{reduction} \n Supported reduction modes: 'none', 'mean', 'sum'"
        )
    return loss


def softmax_focal_loss(input, target, alpha=None, gamma=2.0, ignore_index=-100, reduction="mean"):
    """Softmax focal loss (Lin et al. 2017, multi-class form), written out in torch ops:
    l_n = -alpha[y_n] * (1 - p_{y_n})^gamma * log p_{y_n}, p = softmax over dim 1; targets equal to ignore_index
    contribute 0 and are left out of the mean (which averages over the kept targets, unweighted by alpha).
    Shapes: input (N, C) or (N, C, d1, ...), target int64 (N) or (N, d1, ...), alpha (C)."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if gamma < 0:
        raise ValueError("gamma must be non-negative")
    keep = target != ignore_index
    t = torch.where(keep, target, torch.zeros_like(target))
    c = input.shape[1]
    if bool(((t < 0) | (t >= c)).any()):
        raise IndexError(f"Target {int(t[(t < 0) | (t >= c)][0])} is out of bounds.")
    logpt = F.log_softmax(input, 1).gather(1, t.unsqueeze(1)).squeeze(1)
    loss = -((1 - logpt.exp()) ** gamma) * logpt if gamma != 0 else -logpt
    if alpha is not None:
        loss = loss * alpha[t]
    loss = loss * keep.to(loss.dtype)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / keep.sum()


DISTANCES = {
    "pairwise_distance": lambda a, b: F.pairwise_distance(a, b),
    "pairwise_distance_p1": lambda a, b: F.pairwise_distance(a, b, p=1.0),
}


def triplet_margin_with_distance_loss(anchor, positive, negative, distance_function="pairwise_distance", **kw):
    """torch.nn.functional.triplet_margin_with_distance_loss with the distance named by a string (a case file cannot
    hold a callable): pairwise_distance (torch's default, p = 2) or pairwise_distance_p1."""
    return F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=DISTANCES[distance_function], **kw)


def loss_fn(name):
    if name == "sigmoid_focal_loss":
        return sigmoid_focal_loss
    if name == "softmax_focal_loss":
        return softmax_focal_loss
    if name == "triplet_margin_with_distance_loss":
        return triplet_margin_with_distance_loss
    return getattr(F, name)


# ----------------------------------------------------------------------------
# JSON encoding
# ----------------------------------------------------------------------------
def enc_num(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
    return v


def enc_tensor(t, label=None):
    t = t.detach()
    if t.dtype == torch.int64:
        dtype = "int64"
        data = [int(v) for v in t.reshape(-1).tolist()]
    else:
        dtype = label or "float32"
        data = [enc_num(float(v)) for v in t.reshape(-1).tolist()]
    return {"shape": list(t.shape), "dtype": dtype, "data": data}


def enc_opts(opts):
    out = {}
    for k, v in opts.items():
        out[k] = enc_tensor(v) if isinstance(v, torch.Tensor) else v
    return out


# ----------------------------------------------------------------------------
# running torch
# ----------------------------------------------------------------------------
def clean_msg(e):
    msg = str(e)
    msg = msg.split("\nException raised from")[0]
    return msg.strip()


def cast(x, dtype):
    if isinstance(x, torch.Tensor) and x.is_floating_point():
        return x.detach().to(dtype)
    return x


def run(loss, inputs, opts, dtype, diff):
    fn = loss_fn(loss)
    args = {}
    for k, v in inputs.items():
        v = cast(v, dtype).clone()
        if k in diff:
            v.requires_grad_(True)
        args[k] = v
    o = {k: cast(v, dtype) for k, v in opts.items()}
    out = fn(*args.values(), **o)
    grads = {}
    if diff:
        out.sum().backward()
        for k in diff:
            if args[k].grad is not None:
                grads[k] = args[k].grad.detach()
    return out.detach(), grads


NOT_DIFF = re.compile(r"not differentiable with respect to argument '(\w+)'")


def compute(loss, inputs, opts):
    """Returns the 'expected' object."""
    # 1) does torch accept this at all (float32, no grad)?
    try:
        run(loss, inputs, opts, torch.float32, set())
    except Exception as e:  # noqa: BLE001 - torch raises many types
        try:
            run(loss, inputs, opts, torch.float64, set())
            raise AssertionError(f"{loss}: float32 raised but float64 did not: {e}")
        except AssertionError:
            raise
        except Exception:
            pass
        return {"error": True, "why": clean_msg(e)}
    # 2) which float inputs can torch differentiate?
    diff = [k for k, v in inputs.items() if v.is_floating_point()]
    while True:
        try:
            run(loss, inputs, opts, torch.float32, set(diff))
            break
        except RuntimeError as e:
            m = NOT_DIFF.search(str(e))
            if not m or m.group(1) not in diff:
                raise
            diff.remove(m.group(1))
    # 3) float64 truth and float32 torch answer
    l64, g64 = run(loss, inputs, opts, torch.float64, set(diff))
    l32, g32 = run(loss, inputs, opts, torch.float32, set(diff))
    assert set(g64) == set(g32)
    order = [k for k in inputs if k in g64]
    return {
        "loss": enc_tensor(l64, "float32"),
        "grads": {k: enc_tensor(g64[k], "float32") for k in order},
        "loss32": enc_tensor(l32),
        "grads32": {k: enc_tensor(g32[k]) for k in order},
    }


# ----------------------------------------------------------------------------
# case collection
# ----------------------------------------------------------------------------
FILES = {}  # family -> list of case dicts
ALL_IDS = set()
_family = None


def family(name):
    global _family
    _family = name
    FILES.setdefault(name, [])


# What a rejection must be about: fragments that Kindling's message has to contain (case-insensitive), so an error
# case fails when the input is rejected for some other reason. First matching id pattern wins; every error case must
# match one. Written to expected.error_contains (an extension of the contract: readers that do not know it ignore it).
REASONS = [
    (r"sfocal-err-target-oob", ["target 4", "out of range"]),
    (r"reduction-avg", ["'avg'", "reduction"]),
    (r"ce-err-target-oob-ls$", ["target 5", "out of range"]),
    (r"ce-err-one-column-binary-labels", ["target 1", "BCEWithLogits"]),
    (r"ce-err-negative-target-ignore-other", ["target -2", "out of range"]),
    (r"err-negative-target", ["target -1", "out of range"]),
    (r"mm-err-target-oob", ["target 3", "out of range", "0..2)"]),  # no ignore_index to offer
    (r"err-(unbatched-)?target-oob", ["target 3", "out of range"]),
    (r"err-batch-mismatch", ["batch size"]),
    (r"ce-err-prob-target-ignore-index", ["ignore_index", "probability targets"]),
    (r"ce-err-prob-target", ["probability targets", "shape"]),
    (r"err-weight-length", ["weight", "per class"]),
    (r"ce-err-ls-1p5", ["label_smoothing", "1.5"]),
    (r"ce-err-ls-neg0p1", ["label_smoothing", "-0.1"]),
    (r"ce-err-3d-target-shape", ["target", "(2, 4)"]),
    (r"bce-err-input-above-1", ["[0, 1]", "1.5"]),
    (r"bce-err-input-below-0", ["[0, 1]", "-0.1"]),
    (r"bce-err-input-nan", ["[0, 1]", "NaN"]),
    (r"bce-err-logits-passed", ["[0, 1]", "logits"]),
    (r"err-n1-vs-n", ["(5, 1)", "(5,)", "broadcast"]),
    (r"err-n-vs-n1", ["(5,)", "(5, 1)", "broadcast"]),
    (r"bcel-err-pos-weight-length", ["pos_weight", "(2,)"]),
    (r"ctc-err-input-length-gt-T", ["input_lengths", "7"]),
    (r"ctc-err-target-length-gt-S", ["target_lengths", "3"]),
    (r"ctc-err-lengths-batch-mismatch", ["input_lengths", "target_lengths"]),
    (r"ctc-err-concat-sum-mismatch", ["target_lengths", "4", "3"]),
    (r"gnll-err-negative-var", ["var", "negative"]),
    (r"gnll-err-var-shape", ["var", "shape"]),
    (r"mm-err-p3", ["p", "3"]),
    (r"cos-err-2d-with-0d-target", ["target", "(4,)"]),
    (r"cos-err-3d-inputs", ["(2, 4, 3)"]),
    (r"sl1-err-negative-beta", ["beta", "-1"]),
    (r"huber-err-zero-delta", ["delta", "0"]),
    (r"huber-err-negative-delta", ["delta", "-1"]),
    (r"err-shape", ["shape"]),
    (r"trip-err-shape", ["shape"]),
    (r"tmwd-err-margin-zero", ["margin", "0"]),
    (r"tmwd-err-margin-negative", ["margin", "-1"]),
]


def reason(cid):
    for pattern, fragments in REASONS:
        if re.search(pattern, cid):
            return fragments
    raise AssertionError(f"error case {cid} has no entry in REASONS")


def add(cid, loss, inputs, opts, kindling_rejects=None):
    assert cid not in ALL_IDS, cid
    ALL_IDS.add(cid)
    for k, v in inputs.items():
        assert v.dtype in (torch.float32, torch.int64), (cid, k, v.dtype)
    if kindling_rejects is not None:
        expected = {"error": True, "why": kindling_rejects}
    else:
        expected = compute(loss, inputs, opts)
    if expected.get("error"):
        expected["error_contains"] = reason(cid)
    FILES[_family].append(
        {
            "id": cid,
            "loss": loss,
            "inputs": {k: enc_tensor(v) for k, v in inputs.items()},
            "options": enc_opts(opts),
            "expected": expected,
        }
    )


def sweep(base, loss, make, reds=R3, **kw):
    """One case per reduction; all share the data (seeded from base)."""
    for red in reds:
        seed(base)
        inputs, opts = make()
        opts = dict(opts)
        opts["reduction"] = red
        add(f"{base}-{red}", loss, inputs, opts, **kw)


def single(cid, loss, make, **kw):
    seed(cid)
    inputs, opts = make()
    add(cid, loss, inputs, opts, **kw)


# ----------------------------------------------------------------------------
# cross_entropy
# ----------------------------------------------------------------------------
def gen_cross_entropy():
    family("cross_entropy")
    L = "cross_entropy"
    N, C = 6, 5

    def idx(n=N, c=C, scale=2.0, ignore=None, ignore_at=(1, 4)):
        def make():
            x = randn(n, c, scale=scale)
            t = randint(0, c, n)
            if ignore is not None:
                for i in ignore_at:
                    t[i] = ignore
            return x, t
        return make

    def case(base, opts, n=N, c=C, ignore=None, ignore_at=(1, 4), scale=2.0, weight=False):
        def make():
            x, t = idx(n, c, scale, ignore, ignore_at)()
            o = dict(opts)
            if weight:
                o["weight"] = rand(c, lo=0.2, hi=2.0)
            return {"input": x, "target": t}, o
        sweep(base, L, make)

    # defaults (no options at all)
    single("ce-default", L, lambda: ({"input": randn(N, C, scale=2.0), "target": randint(0, C, N)}, {}))
    case("ce-basic", {})
    case("ce-weight", {}, weight=True)
    case("ce-ignore-default-present", {}, ignore=-100)
    case("ce-ignore-2-present", {"ignore_index": 2}, ignore=2)
    case("ce-ignore-absent", {"ignore_index": 7})
    case("ce-ignore-oob-value", {"ignore_index": 9}, ignore=9)
    case("ce-ignore-weight", {"ignore_index": 1}, ignore=1, weight=True)
    case("ce-all-ignored", {}, ignore=-100, ignore_at=range(N))
    case("ce-all-ignored-weight-ls", {"ignore_index": 3, "label_smoothing": 0.1}, ignore=3,
         ignore_at=range(N), weight=True)
    for ls in (0.0, 0.1, 1.0):
        tag = str(ls).replace(".", "p")
        case(f"ce-ls{tag}", {"label_smoothing": ls})
        case(f"ce-ls{tag}-weight", {"label_smoothing": ls}, weight=True)
        case(f"ce-ls{tag}-ignore", {"label_smoothing": ls, "ignore_index": -100}, ignore=-100)
        case(f"ce-ls{tag}-weight-ignore", {"label_smoothing": ls, "ignore_index": 0}, ignore=0, weight=True)
    case("ce-single-row", {}, n=1)
    case("ce-single-row-ls-weight", {"label_smoothing": 0.2}, n=1, weight=True)
    case("ce-two-classes", {"label_smoothing": 0.1}, c=2, weight=True)
    case("ce-large-logits", {}, scale=1e4)
    case("ce-large-logits-ls", {"label_smoothing": 0.1}, scale=1e4, weight=True)

    def extreme():
        x = f32([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]])
        return {"input": x, "target": i64([1, 1, 0, 2])}, {}
    sweep("ce-pm1e4", L, extreme)
    sweep("ce-pm1e4-ls", L, lambda: (extreme()[0], {"label_smoothing": 0.1}))

    def neginf(ls=0.0, target_cls=False):
        def make():
            x = randn(4, 4, scale=2.0)
            t = i64([0, 1, 2, 3])
            x[0, 2] = -math.inf
            x[1, 3] = -math.inf
            x[2, 0] = -math.inf
            if target_cls:
                x[3, 3] = -math.inf
            o = {"label_smoothing": ls} if ls else {}
            return {"input": x, "target": t}, o
        return make
    sweep("ce-neginf-nontarget", L, neginf())
    sweep("ce-neginf-nontarget-ls", L, neginf(0.1))
    sweep("ce-neginf-target-class", L, neginf(target_cls=True))

    # class-probability targets
    def prob(opts, n=N, c=C, weight=False, onehot=False):
        def make():
            x = randn(n, c, scale=2.0)
            if onehot:
                t = F.one_hot(randint(0, c, n), c).float()
            else:
                t = probs(n, c)
            o = dict(opts)
            if weight:
                o["weight"] = rand(c, lo=0.2, hi=2.0)
            return {"input": x, "target": t}, o
        return make
    sweep("ce-prob", L, prob({}))
    sweep("ce-prob-weight", L, prob({}, weight=True))
    sweep("ce-prob-onehot", L, prob({}, onehot=True))
    for ls in (0.1, 1.0):
        tag = str(ls).replace(".", "p")
        sweep(f"ce-prob-ls{tag}", L, prob({"label_smoothing": ls}))
        sweep(f"ce-prob-ls{tag}-weight", L, prob({"label_smoothing": ls}, weight=True))
    sweep("ce-prob-single-row", L, prob({"label_smoothing": 0.1}, n=1, weight=True))

    def prob_neginf():
        x = randn(3, 4)
        x[0, 1] = -math.inf
        t = f32([[1, 0, 0, 0], [0, 0.5, 0.5, 0], [0.25, 0.25, 0.25, 0.25]])
        return {"input": x, "target": t}, {}
    sweep("ce-prob-neginf-zero-target", L, prob_neginf)

    # K-dimensional
    def kdim(shape, opts, weight=False, ignore=None, prob_t=False):
        def make():
            n, c = shape[0], shape[1]
            x = randn(*shape, scale=2.0)
            if prob_t:
                t = probs(*shape, dim=1)
            else:
                t = randint(0, c, n, *shape[2:])
                if ignore is not None:
                    t.view(-1)[1] = ignore
                    t.view(-1)[-2] = ignore
            o = dict(opts)
            if weight:
                o["weight"] = rand(c, lo=0.2, hi=2.0)
            return {"input": x, "target": t}, o
        return make
    sweep("ce-3d", L, kdim((3, 4, 5), {}))
    sweep("ce-3d-weight-ignore-ls", L, kdim((3, 4, 5), {"ignore_index": -100, "label_smoothing": 0.1},
                                            weight=True, ignore=-100))
    sweep("ce-4d", L, kdim((2, 3, 3, 4), {}))
    sweep("ce-4d-weight-ignore", L, kdim((2, 3, 3, 4), {"ignore_index": 2}, weight=True, ignore=2))
    sweep("ce-4d-weight-ls", L, kdim((2, 3, 3, 4), {"label_smoothing": 0.2}, weight=True))
    sweep("ce-3d-prob", L, kdim((3, 4, 5), {}, prob_t=True))
    sweep("ce-4d-prob-weight-ls", L, kdim((2, 3, 3, 4), {"label_smoothing": 0.1}, weight=True, prob_t=True))

    # unbatched
    def unb(opts, weight=False, t=None, prob_t=False):
        def make():
            x = randn(C, scale=2.0)
            tt = probs(C, dim=0) if prob_t else i64(t if t is not None else 3)
            o = dict(opts)
            if weight:
                o["weight"] = rand(C, lo=0.2, hi=2.0)
            return {"input": x, "target": tt}, o
        return make
    sweep("ce-unbatched", L, unb({}))
    sweep("ce-unbatched-weight-ls", L, unb({"label_smoothing": 0.1}, weight=True))
    sweep("ce-unbatched-ignored", L, unb({"ignore_index": 3}, t=3))
    sweep("ce-unbatched-prob", L, unb({"label_smoothing": 0.1}, weight=True, prob_t=True))

    # a larger case for the fused kernel
    sweep("ce-large", L, lambda: ({"input": randn(64, 30, scale=3.0), "target": randint(0, 30, 64)},
                                  {"weight": rand(30, lo=0.2, hi=2.0), "label_smoothing": 0.05}),
          reds=("mean",))

    # ---- errors
    def err(cid, x, t, opts=None, **kw):
        add(cid, L, {"input": x, "target": t}, opts or {}, **kw)
    seed("ce-err")
    x = randn(4, 3)
    err("ce-err-target-oob", x, i64([0, 3, 1, 2]))
    err("ce-err-target-oob-none", x, i64([0, 3, 1, 2]), {"reduction": "none"})
    err("ce-err-target-oob-ls", x, i64([0, 1, 5, 2]), {"label_smoothing": 0.1})
    err("ce-err-one-column-binary-labels", randn(6, 1), i64([0, 1, 1, 0, 1, 0]))
    err("ce-err-negative-target", x, i64([0, -1, 1, 2]))
    err("ce-err-negative-target-ignore-other", x, i64([0, -2, 1, 2]), {"ignore_index": -1})
    err("ce-err-batch-mismatch", x, i64([0, 1, 1, 2, 0]))
    err("ce-err-prob-target-shape", x, probs(4, 4))
    err("ce-err-prob-target-batch", x, probs(5, 3))
    err("ce-err-prob-target-ignore-index", x, probs(4, 3), {"ignore_index": 1})
    err("ce-err-weight-length", x, i64([0, 1, 1, 2]), {"weight": rand(4)})
    err("ce-err-weight-length-prob", x, probs(4, 3), {"weight": rand(2)})
    err("ce-err-ls-1p5", x, i64([0, 1, 1, 2]), {"label_smoothing": 1.5})
    err("ce-err-ls-1p5-prob", x, probs(4, 3), {"label_smoothing": 1.5})
    err("ce-err-ls-neg0p1", x, i64([0, 1, 1, 2]), {"label_smoothing": -0.1},
        kindling_rejects="Kindling rejects label_smoothing outside [0,1] "
                         "(torch 1.13 silently treats a negative label_smoothing as 0.0)")
    err("ce-err-ls-neg0p1-prob", x, probs(4, 3), {"label_smoothing": -0.1},
        kindling_rejects="Kindling rejects label_smoothing outside [0,1] "
                         "(torch 1.13 silently treats a negative label_smoothing as 0.0)")
    err("ce-err-reduction-avg", x, i64([0, 1, 1, 2]), {"reduction": "avg"})
    err("ce-err-3d-target-shape", randn(2, 3, 4), randint(0, 3, 2, 5))
    err("ce-err-unbatched-target-oob", randn(3), i64(3))


# ----------------------------------------------------------------------------
# nll_loss
# ----------------------------------------------------------------------------
def gen_nll():
    family("nll_loss")
    L = "nll_loss"
    N, C = 6, 5

    def mk(shape, opts, weight=False, ignore=None, unbatched_t=None, logsm=True):
        def make():
            x = randn(*shape, scale=2.0)
            if logsm:
                x = x.log_softmax(0 if len(shape) == 1 else 1)
            c = shape[0] if len(shape) == 1 else shape[1]
            if unbatched_t is not None:
                t = i64(unbatched_t)
            else:
                t = randint(0, c, shape[0], *shape[2:])
                if ignore is not None:
                    t.view(-1)[1] = ignore
                    t.view(-1)[-1] = ignore
            o = dict(opts)
            if weight:
                o["weight"] = rand(c, lo=0.2, hi=2.0)
            return {"input": x, "target": t}, o
        return make

    single("nll-default", L, mk((N, C), {}))
    sweep("nll-basic", L, mk((N, C), {}))
    sweep("nll-raw-input", L, mk((N, C), {}, logsm=False))
    sweep("nll-weight", L, mk((N, C), {}, weight=True))
    sweep("nll-ignore-default-present", L, mk((N, C), {}, ignore=-100))
    sweep("nll-ignore-1-present", L, mk((N, C), {"ignore_index": 1}, ignore=1))
    sweep("nll-ignore-weight", L, mk((N, C), {"ignore_index": 4}, weight=True, ignore=4))

    def all_ign():
        x = randn(3, 4).log_softmax(1)
        return {"input": x, "target": i64([-100, -100, -100])}, {"weight": rand(4, lo=0.5)}
    sweep("nll-all-ignored", L, all_ign)
    sweep("nll-single-row", L, mk((1, C), {}, weight=True))
    sweep("nll-3d", L, mk((3, 4, 5), {}))
    sweep("nll-3d-weight-ignore", L, mk((3, 4, 5), {"ignore_index": 0}, weight=True, ignore=0))
    sweep("nll-4d-weight-ignore", L, mk((2, 3, 3, 4), {"ignore_index": -100}, weight=True, ignore=-100))
    sweep("nll-unbatched", L, mk((C,), {}, unbatched_t=2))
    sweep("nll-unbatched-weight", L, mk((C,), {}, weight=True, unbatched_t=4))
    sweep("nll-unbatched-ignored", L, mk((C,), {"ignore_index": 2}, unbatched_t=2))
    sweep("nll-large", L, lambda: ({"input": randn(32, 30).log_softmax(1), "target": randint(0, 30, 32)},
                                   {"weight": rand(30, lo=0.2, hi=2.0)}), reds=("mean",))

    seed("nll-err")
    x = randn(4, 3).log_softmax(1)
    add("nll-err-target-oob", L, {"input": x, "target": i64([0, 1, 3, 2])}, {})
    add("nll-err-target-oob-none", L, {"input": x, "target": i64([0, 1, 3, 2])}, {"reduction": "none"})
    add("nll-err-negative-target", L, {"input": x, "target": i64([0, -1, 1, 2])}, {})
    add("nll-err-batch-mismatch", L, {"input": x, "target": i64([0, 1, 2])}, {})
    add("nll-err-weight-length", L, {"input": x, "target": i64([0, 1, 1, 2])}, {"weight": rand(5)})
    add("nll-err-reduction-avg", L, {"input": x, "target": i64([0, 1, 1, 2])}, {"reduction": "avg"})


# ----------------------------------------------------------------------------
# binary cross entropy (+ with logits, + sigmoid focal loss)
# ----------------------------------------------------------------------------
def gen_bce():
    family("bce")
    L = "binary_cross_entropy"

    def mk(shape, opts, weight=None, soft=True):
        def make():
            x = randn(*shape, scale=2.0).sigmoid()
            t = rand(*shape) if soft else bits(*shape)
            o = dict(opts)
            if weight == "full":
                o["weight"] = rand(*shape, lo=0.2, hi=2.0)
            elif weight == "last":
                o["weight"] = rand(shape[-1], lo=0.2, hi=2.0)
            return {"input": x, "target": t}, o
        return make

    single("bce-default", L, mk((5, 4), {}))
    sweep("bce-soft", L, mk((5, 4), {}))
    sweep("bce-hard", L, mk((5, 4), {}, soft=False))
    sweep("bce-weight", L, mk((5, 4), {}, weight="full"))
    sweep("bce-weight-bcast-last", L, mk((5, 4), {}, weight="last"))
    sweep("bce-1d", L, mk((7,), {}))
    sweep("bce-3d-weight", L, mk((2, 3, 4), {}, weight="last"))

    def clamp01(weight=False):
        def make():
            x = f32([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1e-30, 1 - 2 ** -24, 0.5])
            t = f32([0.0, 1.0, 0.5, 0.0, 1.0, 0.5, 1.0, 0.0, 0.5])
            o = {"weight": rand(9, lo=0.2, hi=2.0)} if weight else {}
            return {"input": x, "target": t}, o
        return make
    sweep("bce-input-exact-0-1", L, clamp01())
    sweep("bce-input-exact-0-1-weight", L, clamp01(True))
    sweep("bce-large", L, mk((20, 50), {}, weight="last"), reds=("mean",))

    seed("bce-err")
    add("bce-err-input-above-1", L, {"input": f32([0.2, 1.5, 0.3]), "target": f32([0, 1, 1])}, {})
    add("bce-err-input-below-0", L, {"input": f32([0.2, -0.1, 0.3]), "target": f32([0, 1, 1])},
        {"reduction": "none"})
    add("bce-err-input-nan", L, {"input": f32([0.2, math.nan, 0.3]), "target": f32([0, 1, 1])}, {})
    add("bce-err-logits-passed", L, {"input": randn(4, 3, scale=3.0), "target": bits(4, 3)}, {})
    add("bce-err-shape-mismatch", L, {"input": rand(4, 3), "target": bits(4)}, {})
    add("bce-err-shape-mismatch-n1", L, {"input": rand(4, 1), "target": bits(4)}, {})
    add("bce-err-reduction-avg", L, {"input": rand(4, 3), "target": bits(4, 3)}, {"reduction": "avg"})

    # ---- with logits
    L = "binary_cross_entropy_with_logits"

    def mkl(shape, opts, weight=None, pos_weight=None, scale=2.0, soft=True):
        def make():
            x = randn(*shape, scale=scale)
            t = rand(*shape) if soft else bits(*shape)
            o = dict(opts)
            if weight == "full":
                o["weight"] = rand(*shape, lo=0.2, hi=2.0)
            elif weight == "last":
                o["weight"] = rand(shape[-1], lo=0.2, hi=2.0)
            if pos_weight == "last":
                o["pos_weight"] = rand(shape[-1], lo=0.2, hi=4.0)
            elif pos_weight == "full":
                o["pos_weight"] = rand(*shape, lo=0.2, hi=4.0)
            return {"input": x, "target": t}, o
        return make

    single("bcel-default", L, mkl((6, 4), {}))
    sweep("bcel-soft", L, mkl((6, 4), {}))
    sweep("bcel-hard", L, mkl((6, 4), {}, soft=False))
    sweep("bcel-weight", L, mkl((6, 4), {}, weight="full"))
    sweep("bcel-weight-bcast-last", L, mkl((6, 4), {}, weight="last"))
    sweep("bcel-pos-weight", L, mkl((6, 4), {}, pos_weight="last"))
    sweep("bcel-pos-weight-full", L, mkl((6, 4), {}, pos_weight="full"))
    sweep("bcel-weight-pos-weight", L, mkl((6, 4), {}, weight="full", pos_weight="last"))
    sweep("bcel-3d-pos-weight", L, mkl((2, 3, 4), {}, weight="last", pos_weight="last"))
    sweep("bcel-1d", L, mkl((7,), {}, pos_weight="last"))

    def extreme(pw=False):
        def make():
            x = f32([1e4, -1e4, 1e4, -1e4, 100.0, -100.0, 100.0, -100.0, 0.0, 30.0, -30.0, 1e4])
            t = f32([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.5, 0.3, 0.7, 0.5])
            o = {"pos_weight": f32([3.0] * 12)} if pw else {}
            return {"input": x, "target": t}, o
        return make
    sweep("bcel-extreme-logits", L, extreme())
    sweep("bcel-extreme-logits-pos-weight", L, extreme(True))
    sweep("bcel-large", L, mkl((40, 50), {}, pos_weight="last", scale=4.0), reds=("mean",))

    seed("bcel-err")
    add("bcel-err-shape-mismatch", L, {"input": randn(4, 3), "target": bits(4)}, {})
    add("bcel-err-shape-mismatch-n1", L, {"input": randn(4, 1), "target": bits(4)}, {})
    add("bcel-err-pos-weight-length", L, {"input": randn(4, 3), "target": bits(4, 3)},
        {"pos_weight": rand(2)})
    add("bcel-err-reduction-avg", L, {"input": randn(4, 3), "target": bits(4, 3)}, {"reduction": "avg"})


def gen_focal():
    family("sigmoid_focal_loss")
    L = "sigmoid_focal_loss"

    def mk(shape, opts, soft=False, scale=2.5):
        def make():
            return {"input": randn(*shape, scale=scale),
                    "target": rand(*shape) if soft else bits(*shape)}, dict(opts)
        return make

    single("focal-default-none", L, mk((6, 4), {}))
    sweep("focal-a0p25-g2", L, mk((6, 4), {"alpha": 0.25, "gamma": 2.0}))
    sweep("focal-a-1-g2", L, mk((6, 4), {"alpha": -1.0, "gamma": 2.0}))
    sweep("focal-a0p25-g0", L, mk((6, 4), {"alpha": 0.25, "gamma": 0.0}))
    sweep("focal-a-1-g0", L, mk((6, 4), {"alpha": -1.0, "gamma": 0.0}))
    sweep("focal-a0p5-g1", L, mk((6, 4), {"alpha": 0.5, "gamma": 1.0}))
    sweep("focal-soft-target", L, mk((6, 4), {"alpha": 0.25, "gamma": 2.0}, soft=True))
    sweep("focal-3d", L, mk((2, 3, 4), {"alpha": 0.25, "gamma": 2.0}))

    def extreme():
        x = f32([20.0, -20.0, 20.0, -20.0, 0.0, 5.0, -5.0, 50.0])
        t = f32([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0])
        return {"input": x, "target": t}, {"alpha": 0.25, "gamma": 2.0}
    sweep("focal-extreme-logits", L, extreme)
    sweep("focal-large", L, mk((20, 50), {"alpha": 0.25, "gamma": 2.0}, scale=4.0), reds=("mean",))
    seed("focal-err")
    add("focal-err-reduction-avg", L, {"input": randn(4, 3), "target": bits(4, 3)},
        {"alpha": 0.25, "gamma": 2.0, "reduction": "avg"})


# ----------------------------------------------------------------------------
# regression losses
# ----------------------------------------------------------------------------
def gen_regression():
    family("regression")

    def mk(shape, opts, ties=False):
        def make():
            x = randn(*shape, scale=2.0)
            t = randn(*shape, scale=2.0)
            if ties:
                flat_x, flat_t = x.view(-1), t.view(-1)
                flat_t[::3] = flat_x[::3]
                # exactly on the |d| == beta/delta boundary for beta/delta 1.0 and 2.0
                if flat_x.numel() > 5:
                    flat_t[1] = flat_x[1] + 1.0
                    flat_t[4] = flat_x[4] - 2.0
            return {"input": x, "target": t}, dict(opts)
        return make

    losses = [
        ("mse", "mse_loss", [{}]),
        ("l1", "l1_loss", [{}]),
        ("sl1", "smooth_l1_loss", [{"beta": 1.0}, {"beta": 0.0}, {"beta": 0.5}, {"beta": 2.0}]),
        ("huber", "huber_loss", [{"delta": 1.0}, {"delta": 0.5}, {"delta": 2.0}]),
    ]
    for short, L, optsets in losses:
        single(f"{short}-default", L, mk((5, 4), {}))
        for opts in optsets:
            tag = "".join(f"-{k}{str(v).replace('.', 'p')}" for k, v in opts.items())
            sweep(f"{short}{tag}", L, mk((5, 4), opts))
            sweep(f"{short}{tag}-ties", L, mk((4, 3), opts, ties=True))
            sweep(f"{short}{tag}-3d", L, mk((2, 3, 4), opts))
        sweep(f"{short}-1d", L, mk((9,), optsets[0]))
        sweep(f"{short}-scalar", L, mk((), optsets[0]))
        sweep(f"{short}-large", L, mk((40, 50) if short == "mse" else (20, 25), optsets[-1]),
              reds=("mean",))
        # Kindling deliberately rejects the (N,1) vs (N) broadcast torch only warns about
        seed(f"{short}-err")
        for red in R3:
            add(f"{short}-err-n1-vs-n-{red}", L, {"input": randn(5, 1), "target": randn(5)},
                dict(optsets[0], reduction=red),
                kindling_rejects="Kindling rejects (N,1) vs (N) broadcast")
        add(f"{short}-err-n-vs-n1", L, {"input": randn(5), "target": randn(5, 1)},
            dict(optsets[0]), kindling_rejects="Kindling rejects (N,1) vs (N) broadcast")
        add(f"{short}-err-shape-mismatch", L, {"input": randn(4, 3), "target": randn(4, 2)}, {})
        add(f"{short}-err-reduction-avg", L, {"input": randn(4, 3), "target": randn(4, 3)},
            {"reduction": "avg"})
    seed("reg-err")
    add("sl1-err-negative-beta", "smooth_l1_loss", {"input": randn(4, 3), "target": randn(4, 3)},
        {"beta": -1.0})
    add("huber-err-zero-delta", "huber_loss", {"input": randn(4, 3), "target": randn(4, 3)},
        {"delta": 0.0})
    add("huber-err-negative-delta", "huber_loss", {"input": randn(4, 3), "target": randn(4, 3)},
        {"delta": -1.0})


# ----------------------------------------------------------------------------
# kl_div
# ----------------------------------------------------------------------------
def gen_kl():
    family("kl_div")
    L = "kl_div"
    R4 = ("none", "mean", "sum", "batchmean")

    def mk(shape, opts, zeros=False):
        def make():
            x = probs(*shape, dim=-1).log()
            t = probs(*shape, dim=-1)
            if zeros:
                t.view(-1)[::3] = 0.0
            if opts.get("log_target"):
                t = t.log()
            return {"input": x, "target": t}, dict(opts)
        return make

    single("kl-default", L, mk((4, 5), {}))
    for lt in (False, True):
        tag = "logt" if lt else "probt"
        sweep(f"kl-{tag}", L, mk((4, 5), {"log_target": lt}), reds=R4)
        sweep(f"kl-{tag}-target-zeros", L, mk((4, 5), {"log_target": lt}, zeros=True), reds=R4)
        sweep(f"kl-{tag}-3d", L, mk((2, 3, 4), {"log_target": lt}), reds=R4)
        sweep(f"kl-{tag}-1d", L, mk((6,), {"log_target": lt}), reds=R4)
    sweep("kl-probt-large", L, mk((20, 25), {"log_target": False}), reds=("batchmean",))
    seed("kl-err")
    add("kl-err-reduction-avg", L, {"input": randn(4, 3), "target": rand(4, 3)}, {"reduction": "avg"})
    add("kl-err-shape-mismatch", L, {"input": randn(4, 3), "target": rand(4, 2)}, {})


# ----------------------------------------------------------------------------
# poisson / gaussian nll
# ----------------------------------------------------------------------------
def gen_prob_nll():
    family("poisson_gaussian_nll")
    L = "poisson_nll_loss"

    def mkp(shape, opts):
        def make():
            if opts.get("log_input", True):
                x = randn(*shape)
            else:
                x = rand(*shape, lo=0.05, hi=4.0)
                x.view(-1)[0] = 0.0  # rate 0: eps matters
            t = randint(0, 6, *shape).float()
            return {"input": x, "target": t}, dict(opts)
        return make

    single("pnll-default", L, mkp((4, 5), {}))
    for li in (True, False):
        for full in (False, True):
            for eps in (1e-8, 0.1):
                tag = f"pnll-log{int(li)}-full{int(full)}-eps{eps:g}".replace(".", "p")
                sweep(tag, L, mkp((4, 5), {"log_input": li, "full": full, "eps": eps}))
    sweep("pnll-3d-full", L, mkp((2, 3, 4), {"log_input": True, "full": True}))
    seed("pnll-err")
    add("pnll-err-reduction-avg", L, {"input": randn(4, 3), "target": rand(4, 3)}, {"reduction": "avg"})

    L = "gaussian_nll_loss"

    def mkg(shape, vshape, opts, tiny_var=False):
        def make():
            x = randn(*shape)
            t = randn(*shape)
            v = rand(*vshape, lo=0.1, hi=2.0)
            if tiny_var:
                v.view(-1)[0] = 0.0
                if v.numel() > 1:
                    v.view(-1)[1] = 1e-8
            return {"input": x, "target": t, "var": v}, dict(opts)
        return make

    single("gnll-default", L, mkg((4, 3), (4, 3), {}))
    for full in (False, True):
        for eps in (1e-6, 0.1):
            tag = f"gnll-full{int(full)}-eps{eps:g}".replace(".", "p")
            o = {"full": full, "eps": eps}
            sweep(f"{tag}-var-same", L, mkg((4, 3), (4, 3), o))
            sweep(f"{tag}-var-n1", L, mkg((4, 3), (4, 1), o))
            sweep(f"{tag}-var-n", L, mkg((4, 3), (4,), o))
            sweep(f"{tag}-var-tiny", L, mkg((4, 3), (4, 3), o, tiny_var=True))
    sweep("gnll-1d-var-same", L, mkg((5,), (5,), {}))
    sweep("gnll-1d-var-scalar", L, mkg((5,), (), {}))
    sweep("gnll-1d-var-1", L, mkg((5,), (1,), {}))
    sweep("gnll-3d-var-last1", L, mkg((2, 3, 4), (2, 3, 1), {"full": True}))
    sweep("gnll-3d-var-drop-last", L, mkg((2, 3, 4), (2, 3), {}))
    seed("gnll-err")
    add("gnll-err-negative-var", L, {"input": randn(4, 3), "target": randn(4, 3),
                                     "var": f32([[0.5, -0.1, 0.3]] * 4)}, {})
    add("gnll-err-negative-var-n1", L, {"input": randn(4, 3), "target": randn(4, 3),
                                        "var": f32([[0.5], [0.2], [-1.0], [0.3]])}, {"reduction": "none"})
    add("gnll-err-var-shape", L, {"input": randn(4, 3), "target": randn(4, 3), "var": rand(4, 2)}, {})
    add("gnll-err-var-shape-3", L, {"input": randn(4, 3), "target": randn(4, 3), "var": rand(3)}, {})
    add("gnll-err-reduction-avg", L, {"input": randn(4, 3), "target": randn(4, 3), "var": rand(4, 3)},
        {"reduction": "avg"})


# ----------------------------------------------------------------------------
# margin / embedding losses
# ----------------------------------------------------------------------------
def gen_margin():
    family("margin")

    L = "soft_margin_loss"
    single("softm-default", L, lambda: ({"input": randn(4, 5, scale=2.0), "target": sign(4, 5)}, {}))
    sweep("softm", L, lambda: ({"input": randn(4, 5, scale=2.0), "target": sign(4, 5)}, {}))
    sweep("softm-1d", L, lambda: ({"input": randn(7, scale=2.0), "target": sign(7)}, {}))
    sweep("softm-extreme", L, lambda: ({"input": f32([100.0, -100.0, 100.0, -100.0, 0.0]),
                                        "target": f32([1.0, 1.0, -1.0, -1.0, 1.0])}, {}))
    seed("softm-err")
    add("softm-err-shape", L, {"input": randn(4, 3), "target": sign(4, 2)}, {})

    L = "multilabel_soft_margin_loss"

    def mlsm(weight=False, soft=False):
        def make():
            o = {"weight": rand(5, lo=0.2, hi=2.0)} if weight else {}
            return {"input": randn(4, 5, scale=2.0), "target": rand(4, 5) if soft else bits(4, 5)}, o
        return make
    single("mlsm-default", L, mlsm())
    sweep("mlsm", L, mlsm())
    sweep("mlsm-weight", L, mlsm(True))
    sweep("mlsm-soft-target-weight", L, mlsm(True, True))
    seed("mlsm-err")
    add("mlsm-err-shape", L, {"input": randn(4, 3), "target": bits(4, 2)}, {})

    L = "hinge_embedding_loss"

    def hinge(opts, ties=False):
        def make():
            x = randn(4, 5, scale=1.5).abs()
            t = sign(4, 5)
            if ties:
                m = opts.get("margin", 1.0)
                x.view(-1)[::3] = m
            return {"input": x, "target": t}, dict(opts)
        return make
    single("hinge-default", L, hinge({}))
    for m in (1.0, 0.5, 2.0, 0.0):
        tag = str(m).replace(".", "p")
        sweep(f"hinge-margin{tag}", L, hinge({"margin": m}))
    sweep("hinge-margin1p0-ties", L, hinge({"margin": 1.0}, ties=True))
    sweep("hinge-negative-inputs", L, lambda: ({"input": randn(4, 5, scale=1.5), "target": sign(4, 5)},
                                               {"margin": 1.0}))
    sweep("hinge-1d", L, lambda: ({"input": randn(6).abs(), "target": sign(6)}, {"margin": 1.0}))

    L = "margin_ranking_loss"

    def mrl(opts, ties=False):
        def make():
            a, b, t = randn(8), randn(8), sign(8)
            if ties:
                b[::3] = a[::3]
            return {"input1": a, "input2": b, "target": t}, dict(opts)
        return make
    single("mrl-default", L, mrl({}))
    for m in (0.0, 0.5, 1.0):
        tag = str(m).replace(".", "p")
        sweep(f"mrl-margin{tag}", L, mrl({"margin": m}))
    sweep("mrl-margin0p0-ties", L, mrl({"margin": 0.0}, ties=True))
    sweep("mrl-scalar", L, lambda: ({"input1": randn(), "input2": randn(), "target": f32(-1.0)},
                                    {"margin": 0.5}))
    seed("mrl-err")
    add("mrl-err-shape", L, {"input1": randn(4), "input2": randn(3), "target": sign(4)}, {})

    L = "cosine_embedding_loss"

    def cos(opts, n=5, d=4, zero=False, unbatched=False):
        def make():
            if unbatched:
                a, b = randn(d), randn(d)
                t = f32(1.0 if opts.get("_pos", True) else -1.0)
            else:
                a, b = randn(n, d), randn(n, d)
                t = sign(n)
                if zero:
                    a[0] = 0.0
                    b[1] = 0.0
                    t[0], t[1] = 1.0, -1.0
            o = {k: v for k, v in opts.items() if not k.startswith("_")}
            return {"input1": a, "input2": b, "target": t}, o
        return make
    single("cos-default", L, cos({}))
    for m in (0.0, 0.5, -0.5):
        tag = str(m).replace(".", "p").replace("-", "neg")
        sweep(f"cos-margin{tag}", L, cos({"margin": m}))
    sweep("cos-zero-vectors", L, cos({"margin": 0.0}, zero=True))
    sweep("cos-unbatched-pos", L, cos({"margin": 0.0}, unbatched=True))
    sweep("cos-unbatched-neg", L, cos({"margin": -0.5, "_pos": False}, unbatched=True))
    sweep("cos-parallel", L, lambda: ({"input1": f32([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]]),
                                       "input2": f32([[2.0, 4.0, 6.0], [-3.0, 0.0, 0.0]]),
                                       "target": f32([1.0, -1.0])}, {"margin": 0.0}))
    seed("cos-err")
    add("cos-err-shape", L, {"input1": randn(4, 3), "input2": randn(4, 2), "target": sign(4)}, {})
    add("cos-err-2d-with-0d-target", L, {"input1": randn(4, 3), "input2": randn(4, 3),
                                         "target": f32(1.0)}, {})
    add("cos-err-3d-inputs", L, {"input1": randn(2, 4, 3), "input2": randn(2, 4, 3), "target": sign(2, 4)}, {})

    L = "multi_margin_loss"

    def mm(opts, weight=False, unbatched=False):
        def make():
            if unbatched:
                x, t = randn(5), i64(2)
            else:
                x, t = randn(6, 5), randint(0, 5, 6)
            o = dict(opts)
            if weight:
                o["weight"] = rand(5, lo=0.2, hi=2.0)
            return {"input": x, "target": t}, o
        return make
    single("mm-default", L, mm({}))
    for p in (1, 2):
        for m in (1.0, 0.5):
            for w in (False, True):
                tag = f"mm-p{p}-margin{str(m).replace('.', 'p')}" + ("-weight" if w else "")
                sweep(tag, L, mm({"p": p, "margin": m}, weight=w))
        sweep(f"mm-p{p}-unbatched-weight", L, mm({"p": p}, weight=True, unbatched=True))
    seed("mm-err")
    add("mm-err-target-oob", L, {"input": randn(4, 3), "target": i64([0, 1, 3, 2])}, {})
    add("mm-err-p3", L, {"input": randn(4, 3), "target": i64([0, 1, 2, 2])}, {"p": 3})
    add("mm-err-weight-length", L, {"input": randn(4, 3), "target": i64([0, 1, 2, 2])},
        {"weight": rand(4)},
        kindling_rejects="Kindling rejects a weight whose length is not the class count (torch reads only weight[target])")

    L = "multilabel_margin_loss"

    def mlm(unbatched=False):
        def make():
            if unbatched:
                return {"input": randn(5), "target": i64([3, 0, -1, 1, 4])}, {}
            t = i64([[3, 0, -1, 1, 1],
                     [1, 2, 3, 4, 0],
                     [-1, 0, 1, 2, 3],
                     [4, -1, -1, -1, -1],
                     [2, 2, -1, 0, 0]])
            return {"input": randn(5, 5), "target": t}, {}
        return make
    single("mlm-default", L, mlm())
    sweep("mlm", L, mlm())
    sweep("mlm-unbatched", L, mlm(True))
    seed("mlm-err")
    add("mlm-err-target-oob", L, {"input": randn(2, 3), "target": i64([[3, -1, 0], [0, -1, 0]])}, {})
    add("mlm-err-shape", L, {"input": randn(2, 3), "target": i64([[1, -1], [0, -1]])}, {})

    L = "triplet_margin_loss"

    def trip(opts, shape=(5, 4), same=False):
        def make():
            a = randn(*shape)
            pp = a.clone() if same else randn(*shape)
            n = randn(*shape)
            return {"anchor": a, "positive": pp, "negative": n}, dict(opts)
        return make
    single("trip-default", L, trip({}))
    for m in (1.0, 0.5):
        for p in (2.0, 1.0, 3.0):
            for swap in (False, True):
                tag = f"trip-m{str(m).replace('.', 'p')}-p{p:g}" + ("-swap" if swap else "")
                sweep(tag, L, trip({"margin": m, "p": p, "swap": swap}))
    sweep("trip-eps1e-3", L, trip({"eps": 1e-3}))
    sweep("trip-anchor-eq-positive", L, trip({"margin": 1.0}, same=True))
    sweep("trip-anchor-eq-positive-eps1e-3-p1", L, trip({"margin": 1.0, "eps": 1e-3, "p": 1.0}, same=True))
    sweep("trip-unbatched", L, trip({"margin": 1.0, "swap": True}, shape=(6,)))
    seed("trip-err")
    add("trip-err-shape", L, {"anchor": randn(4, 3), "positive": randn(4, 2), "negative": randn(4, 3)}, {})


# ----------------------------------------------------------------------------
# ctc
# ----------------------------------------------------------------------------
def gen_ctc():
    family("ctc_loss")
    L = "ctc_loss"

    def mk(T, C, tgts, in_lens, blank=0, concat=False, scale=1.5):
        """tgts: list of target label lists (padded form built from them)."""
        def make():
            N = len(tgts)
            lp = randn(T, N, C, scale=scale).log_softmax(2)
            tl = i64([len(t) for t in tgts])
            if concat:
                tg = i64([v for t in tgts for v in t])
            else:
                S = max(1, max(len(t) for t in tgts))
                tg = torch.full((N, S), blank, dtype=torch.int64)
                for i, t in enumerate(tgts):
                    tg[i, :len(t)] = i64(t)
            return {"log_probs": lp, "targets": tg, "input_lengths": i64(in_lens),
                    "target_lengths": tl}, {"blank": blank}
        return make

    def variants(base, T, C, tgts, in_lens, blank=0, combos=None, reds=R3, **kw):
        for concat in (False, True):
            form = "concat" if concat else "padded"
            for zi in (False, True):
                if combos is not None and (concat, zi) not in combos:
                    continue
                def make(concat=concat, zi=zi):
                    inp, o = mk(T, C, tgts, in_lens, blank, concat, **kw)()
                    o["zero_infinity"] = zi
                    return inp, o
                sweep(f"{base}-{form}-zi{int(zi)}", L, make, reds=reds)

    single("ctc-default", L, lambda: mk(8, 5, [[1, 2, 3], [4, 4]], [8, 7])()[0:1] + ({},))
    variants("ctc-basic", 10, 5, [[1, 2, 3], [2, 2, 4, 1], [3]], [10, 9, 6])
    variants("ctc-blank-last", 10, 5, [[0, 1, 3], [2, 2], [3, 0, 0]], [10, 8, 9], blank=4)
    variants("ctc-repeats-tight", 7, 4, [[1, 1, 1], [2, 3, 2, 3]], [5, 7])  # needs exactly 5 / >=4 frames
    variants("ctc-empty-target", 6, 4, [[], [1, 2]], [6, 4])
    variants("ctc-impossible", 6, 4, [[1, 1, 1, 1], [1, 2]], [6, 6])  # [1,1,1,1] needs 7 frames
    variants("ctc-target-longer-than-input", 6, 4, [[1, 2, 3], [1, 2]], [2, 6])

    def unb(zi):
        def make():
            lp = randn(8, 5, scale=1.5).log_softmax(1)
            return {"log_probs": lp, "targets": i64([1, 3, 3, 2]), "input_lengths": i64(8),
                    "target_lengths": i64(4)}, {"blank": 0, "zero_infinity": zi}
        return make
    sweep("ctc-unbatched-zi0", L, unb(False))
    sweep("ctc-unbatched-zi1", L, unb(True))

    # larger case: T=50, N=4, C=10 -> 2000 log_probs
    seed("ctc-large-targets")
    big_t = [[int(v) for v in randint(1, 10, n)] for n in (12, 20, 5, 15)]
    variants("ctc-large", 50, 10, big_t, [50, 45, 30, 40], scale=2.0, reds=("mean",),
             combos=[(False, False), (True, True)])

    seed("ctc-err")
    lp = randn(6, 2, 4).log_softmax(2)
    add("ctc-err-input-length-gt-T", L, {"log_probs": lp, "targets": i64([[1, 2], [1, 1]]),
                                         "input_lengths": i64([7, 6]), "target_lengths": i64([2, 2])}, {})
    add("ctc-err-target-length-gt-S", L, {"log_probs": lp, "targets": i64([[1, 2], [1, 1]]),
                                          "input_lengths": i64([6, 6]), "target_lengths": i64([3, 2])}, {})
    add("ctc-err-lengths-batch-mismatch", L, {"log_probs": lp, "targets": i64([[1, 2], [1, 1]]),
                                              "input_lengths": i64([6, 6, 6]), "target_lengths": i64([2, 2])}, {})
    add("ctc-err-concat-sum-mismatch", L, {"log_probs": lp, "targets": i64([1, 2, 1]),
                                           "input_lengths": i64([6, 6]), "target_lengths": i64([2, 2])}, {})
    add("ctc-err-reduction-avg", L, {"log_probs": lp, "targets": i64([[1, 2], [1, 1]]),
                                     "input_lengths": i64([6, 6]), "target_lengths": i64([2, 2])},
        {"reduction": "avg"})


# ----------------------------------------------------------------------------
# softmax focal loss (Kindling's --loss focal for classes; no torch.nn counterpart: its formula in torch ops)
# ----------------------------------------------------------------------------
def gen_softmax_focal():
    family("softmax_focal_loss")
    L = "softmax_focal_loss"

    def mk(shape, opts, alpha=False, ignore=None, scale=2.5):
        def make():
            x = randn(*shape, scale=scale)
            c = shape[1]
            tshape = (shape[0],) + tuple(shape[2:])
            t = randint(0, c, *tshape)
            if ignore is not None:
                t.view(-1)[1] = ignore
                t.view(-1)[4] = ignore
            o = dict(opts)
            if alpha:
                o["alpha"] = rand(c, lo=0.1, hi=1.0)
            if ignore is not None:
                o["ignore_index"] = ignore
            return {"input": x, "target": t}, o
        return make

    single("sfocal-default", L, mk((6, 4), {}))
    for g in (0.0, 0.5, 1.0, 2.0, 3.0):
        sweep(f"sfocal-g{str(g).replace('.', 'p')}", L, mk((7, 5), {"gamma": g}))
    sweep("sfocal-alpha-g2", L, mk((7, 5), {"gamma": 2.0}, alpha=True))
    sweep("sfocal-ignore", L, mk((8, 4), {"gamma": 2.0}, ignore=-100))
    sweep("sfocal-ignore-alpha-other", L, mk((8, 4), {"gamma": 1.5}, alpha=True, ignore=2))
    sweep("sfocal-3d", L, mk((2, 3, 4), {"gamma": 2.0}))

    def confident():
        x = f32([[30.0, -30.0, 0.0], [0.0, 0.0, 0.0], [-5.0, 5.0, 5.0], [12.0, 11.0, -40.0]])
        return {"input": x, "target": i64([0, 1, 2, 1])}, {"gamma": 2.0}
    sweep("sfocal-confident", L, confident)
    sweep("sfocal-large", L, mk((40, 10), {"gamma": 2.0}, alpha=True, scale=4.0), reds=("mean",))
    seed("sfocal-err")
    add("sfocal-err-target-oob", L, {"input": randn(4, 4), "target": i64([0, 4, 1, 2])}, {})
    add("sfocal-err-reduction-avg", L, {"input": randn(4, 3), "target": i64([0, 1, 2, 0])}, {"reduction": "avg"})


# ----------------------------------------------------------------------------
# triplet margin loss with a distance function (torch.nn.TripletMarginWithDistanceLoss)
# ----------------------------------------------------------------------------
def gen_triplet_distance():
    family("triplet_margin_with_distance_loss")
    L = "triplet_margin_with_distance_loss"

    def trip(opts, shape=(5, 4), same=False):
        def make():
            a = randn(*shape)
            p = a.clone() if same else a + randn(*shape, scale=0.5)
            return {"anchor": a, "positive": p, "negative": randn(*shape)}, dict(opts)
        return make

    single("tmwd-default", L, trip({}))
    for dist in ("pairwise_distance", "pairwise_distance_p1"):
        for m in (0.5, 1.0, 2.0):
            for swap in (False, True):
                tag = f"tmwd-{dist.replace('_', '-')}-m{str(m).replace('.', 'p')}" + ("-swap" if swap else "")
                sweep(tag, L, trip({"distance_function": dist, "margin": m, "swap": swap}))
    sweep("tmwd-anchor-eq-positive", L, trip({"margin": 1.0}, same=True))
    sweep("tmwd-unbatched", L, trip({"margin": 1.0, "swap": True}, shape=(6,)))
    seed("tmwd-err")
    why = "Kindling rejects margin <= 0 as PyTorch 2.x does (1.13's functional form computes it without a check)"
    add("tmwd-err-margin-zero", L, {"anchor": randn(4, 3), "positive": randn(4, 3), "negative": randn(4, 3)},
        {"margin": 0.0}, kindling_rejects=why)
    add("tmwd-err-margin-negative", L, {"anchor": randn(4, 3), "positive": randn(4, 3), "negative": randn(4, 3)},
        {"margin": -1.0}, kindling_rejects=why)
    add("tmwd-err-reduction-avg", L, {"anchor": randn(4, 3), "positive": randn(4, 3), "negative": randn(4, 3)}, {"reduction": "avg"})


# ----------------------------------------------------------------------------
SMOKE = [
    "ce-weight-mean", "ce-ls0p1-weight-ignore-sum", "ce-prob-ls0p1-weight-none",
    "nll-4d-weight-ignore-mean", "bce-input-exact-0-1-weight-mean", "bcel-weight-pos-weight-sum",
    "mse-mean", "huber-delta0p5-none", "kl-probt-batchmean", "gnll-full1-eps1e-06-var-n1-mean",
    "trip-m1p0-p2-swap-mean", "ctc-basic-concat-zi0-mean", "focal-a0p25-g2-mean",
    "ce-err-target-oob", "mse-err-n1-vs-n-mean",
]


def main():
    default_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")  # tools/parity/cases
    out_dir = sys.argv[1] if len(sys.argv) > 1 else default_dir
    os.makedirs(out_dir, exist_ok=True)
    gen_cross_entropy()
    gen_nll()
    gen_bce()
    gen_focal()
    gen_regression()
    gen_kl()
    gen_prob_nll()
    gen_margin()
    gen_ctc()
    gen_softmax_focal()
    gen_triplet_distance()
    by_id = {c["id"]: c for cases in FILES.values() for c in cases}
    smoke = []
    for cid in SMOKE:
        c = dict(by_id[cid])
        c["id"] = "smoke-" + cid
        smoke.append(c)
    FILES["smoke"] = smoke
    for name, cases in FILES.items():
        path = os.path.join(out_dir, f"{name}.jsonl")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for c in cases:
                f.write(json.dumps(c, allow_nan=False, separators=(", ", ": ")) + "\n")
        errs = sum(1 for c in cases if c["expected"].get("error"))
        print(f"{path}: {len(cases)} cases ({errs} error cases)")


if __name__ == "__main__":
    main()
