"""A tiny GPT trained for 200 steps by PyTorch 1.13 in float64 and in float32, from the same PyTorch-written weights, for
Kindling's trajectory test; plus the learning rates of LambdaLR and SequentialLR schedules.

Usage: PYENV_VERSION=system python3 tools/parity/gen_gpt_trajectory.py [DIR]   (default tools/parity/gpt)

The model is nanoGPT's shape built from torch.nn parts Kindling has: token and position embeddings; 2 pre-LayerNorm
blocks of nn.MultiheadAttention(32, 2 heads, batch_first) under the causal mask and an MLP 32 → 128 → 32 with
GELU(approximate='tanh'); a final LayerNorm; an output layer without bias whose weight IS the token embedding's (weight
tying). Context 16, vocabulary 20, dropout 0. Training as nanoGPT: AdamW(betas 0.9, 0.95) over two parameter groups
(weight decay 0.1 on parameters with ≥ 2 dimensions, 0 on the rest), LambdaLR with linear warm-up (20 steps) then cosine
decay to 0.1× at step 200, two micro-batches of 4 sequences per step whose losses (each divided by 2) are accumulated by
backward, gradient clipping to norm 1. The loss is cross-entropy over logits (N, C, T) with ignore_index -1 (the first
target of every sequence is -1) and label_smoothing 0.1. Data: a 3,000-token sequence from a fixed sparse Markov chain;
the batch offsets of every step are written out so Kindling reads the same batches.

Writes: init.safetensors (float64 initial state dict, both names of the tied weight), final64.safetensors and
final32.safetensors (state dicts after 200 steps), gpt.json (corpus, offsets, per-step losses and learning rates of both
runs, and the schedule cases).
"""
import json, math, os, sys
from collections import OrderedDict
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import save_file  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt")
V, T, E, H, NL, B, MICRO, STEPS = 20, 16, 32, 2, 2, 4, 2, 200
WARMUP, DECAY, MIN_RATIO, LR, WD = 20, 200, 0.1, 3e-3, 0.1


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(E, 4 * E)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * E, E)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(E)
        self.attn = nn.MultiheadAttention(E, H, batch_first=True)
        self.ln_2 = nn.LayerNorm(E)
        self.mlp = MLP()

    def forward(self, x, mask):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, E)
        self.wpe = nn.Embedding(T, E)
        self.h = nn.ModuleList([Block() for _ in range(NL)])
        self.ln_f = nn.LayerNorm(E)
        self.lm_head = nn.Linear(E, V, bias=False)
        self.wte.weight = self.lm_head.weight  # tied, as nanoGPT

    def forward(self, idx, targets):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t))
        mask = nn.Transformer.generate_square_subsequent_mask(t).to(x.dtype)
        for b in self.h:
            x = b(x, mask)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-1, label_smoothing=0.1)


def lr_lambda(it):
    if it < WARMUP:
        return (it + 1) / (WARMUP + 1)
    if it > DECAY:
        return MIN_RATIO
    ratio = (it - WARMUP) / (DECAY - WARMUP)
    return MIN_RATIO + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (1 - MIN_RATIO)


def groups(model):
    named = list(model.named_parameters())
    return [{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": WD},
            {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}]


def train(init, dtype, corpus, offsets):
    torch.manual_seed(0)
    m = GPT().to(dtype)
    m.load_state_dict({k: v.to(dtype) for k, v in init.items()})
    opt = torch.optim.AdamW(groups(m), lr=LR, betas=(0.9, 0.95))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    losses, lrs = [], []
    for step in range(STEPS):
        opt.zero_grad(set_to_none=True)
        lrs.append(opt.param_groups[0]["lr"])
        total = 0.0
        for micro in range(MICRO):
            o = offsets[step][micro]
            x = torch.stack([corpus[i:i + T] for i in o])
            y = torch.stack([corpus[i + 1:i + T + 1] for i in o]).clone()
            y[:, 0] = -1
            loss = m(x, y) / MICRO
            loss.backward()
            total += loss.item()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(total)
    return m, losses, lrs


def schedules():
    cases = []
    def run(name, make, steps=60):
        p1, p2 = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
        opt = torch.optim.SGD([{"params": [p1], "lr": 0.5}, {"params": [p2], "lr": 0.02}], lr=0.1)
        s = make(opt)
        lrs = []
        for _ in range(steps):
            lrs.append([g["lr"] for g in opt.param_groups])
            opt.step()
            s.step()
        cases.append({"name": name, "lrs": lrs})
    S = torch.optim.lr_scheduler
    run("lambda_warmup_cosine", lambda o: S.LambdaLR(o, lr_lambda))
    run("sequential_linear_cosine", lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.01, 1.0, 10), S.CosineAnnealingLR(o, 40, 1e-4)], [10]))
    run("sequential_lambda_exponential_step", lambda o: S.SequentialLR(o, [S.LambdaLR(o, lambda e: (e + 1) / 6), S.ExponentialLR(o, 0.9), S.StepLR(o, 7, 0.5)], [5, 25]))
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(42)
    # A sparse Markov chain: each token has 3 likely successors, so there is something to learn.
    succ = torch.randint(0, V, (V, 3), generator=g)
    corpus = [0]
    for _ in range(2999):
        r = torch.rand(1, generator=g).item()
        corpus.append(int(succ[corpus[-1], 0 if r < 0.6 else 1 if r < 0.85 else 2]) if torch.rand(1, generator=g).item() > 0.05 else int(torch.randint(0, V, (1,), generator=g)))
    corpus_t = torch.tensor(corpus)
    offsets = torch.randint(0, len(corpus) - T - 1, (STEPS, MICRO, B), generator=g).tolist()

    torch.manual_seed(7)
    m = GPT().double()
    with torch.no_grad():  # nanoGPT's init: N(0, 0.02) weights, zero biases
        for mod in m.modules():
            if isinstance(mod, (nn.Linear, nn.Embedding)):
                mod.weight.normal_(0.0, 0.02)
                if getattr(mod, "bias", None) is not None:
                    mod.bias.zero_()
    init = {k: v.detach().clone() for k, v in m.state_dict().items()}
    save_file(init, os.path.join(OUT, "init.safetensors"))

    m64, l64, lr64 = train(init, torch.float64, corpus_t, offsets)
    m32, l32, lr32 = train(init, torch.float32, corpus_t, offsets)
    save_file({k: v.detach().clone() for k, v in m64.state_dict().items()}, os.path.join(OUT, "final64.safetensors"))
    save_file({k: v.detach().clone() for k, v in m32.state_dict().items()}, os.path.join(OUT, "final32.safetensors"))
    with open(os.path.join(OUT, "gpt.json"), "w") as f:
        json.dump({"torch": torch.__version__, "config": {"vocab": V, "context": T, "width": E, "heads": H, "layers": NL, "batch": B,
                   "micro_batches": MICRO, "steps": STEPS, "lr": LR, "weight_decay": WD, "warmup": WARMUP, "decay_iters": DECAY, "min_ratio": MIN_RATIO},
                   "corpus": corpus, "offsets": offsets, "loss64": l64, "loss32": l32, "lr": lr64, "schedules": schedules()}, f)
    drift = max(abs(a - b) for a, b in zip(l64, l32))
    print(f"loss {l64[0]:.4f} -> {l64[-1]:.4f}; PyTorch float32 loss drift {drift:.3g}")


main()
