"""PyTorch 1.13 twin of bench/Kindling.Bench/LanguageModelBench.cs (bench/lm.sh runs both): nanoGPT's model and CPU
configuration on tiny-shakespeare (read from Kindling's embedded copy), a 2 x 256 character LSTM, and nanoGPT's plain
generate loop (PyTorch 1.13 has no scaled_dot_product_attention: nanoGPT's manual attention path, as on its CPU run).

    OMP_WAIT_POLICY=PASSIVE PYENV_VERSION=system python3 bench/torch_lm.py [--json] [--threads N] [--reps N] [--filter full]
"""
import argparse, gzip, json, math, os, resource, statistics, time
import torch, torch.nn as nn, torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--json", action="store_true"); ap.add_argument("--threads", type=int, default=os.cpu_count())
ap.add_argument("--reps", type=int, default=11); ap.add_argument("--filter", default=None)
args = ap.parse_args()
torch.set_num_threads(args.threads)
root = os.path.join(os.path.dirname(__file__), "..")
text = gzip.open(os.path.join(root, "src/Kindling/Data/Resources/tinyshakespeare.txt.gz"), "rt", encoding="utf-8").read()
n = len(text); ntr = int(n * 0.9); nval = (n - ntr) // 2
chars = sorted(set(text[:ntr])); stoi = {c: i for i, c in enumerate(chars)}; V = len(chars)
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
train, val = data[:ntr], data[ntr:ntr + nval]

def batch(d, B, T):
    ix = torch.randint(len(d) - T, (B,))
    return torch.stack([d[i:i + T] for i in ix]), torch.stack([d[i + 1:i + 1 + T] for i in ix])

class Attn(nn.Module):
    def __init__(s, C, H):
        super().__init__(); s.c_attn = nn.Linear(C, 3 * C); s.c_proj = nn.Linear(C, C); s.H = H
    def forward(s, x):
        B, T, C = x.shape
        q, k, v = s.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, s.H, C // s.H).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)
        return s.c_proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))

class Block(nn.Module):
    def __init__(s, C, H):
        super().__init__(); s.ln_1 = nn.LayerNorm(C); s.attn = Attn(C, H); s.ln_2 = nn.LayerNorm(C)
        s.mlp = nn.Sequential(nn.Linear(C, 4 * C), nn.GELU(), nn.Linear(4 * C, C))
    def forward(s, x):
        x = x + s.attn(s.ln_1(x)); return x + s.mlp(s.ln_2(x))

class GPT(nn.Module):
    def __init__(s, V, block=64, L=4, H=4, C=128):
        super().__init__(); s.wte = nn.Embedding(V, C); s.wpe = nn.Embedding(block, C)
        s.h = nn.ModuleList([Block(C, H) for _ in range(L)]); s.ln_f = nn.LayerNorm(C); s.block = block
        for name, p in s.named_parameters():
            if p.dim() >= 2: nn.init.normal_(p, 0, 0.02 / math.sqrt(2 * L) if name.endswith("c_proj.weight") or name.endswith("mlp.2.weight") else 0.02)
    def forward(s, idx):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for b in s.h: x = b(x)
        return F.linear(s.ln_f(x), s.wte.weight)

def optimizer(m):
    ps = list(m.parameters())
    return torch.optim.AdamW([{"params": [p for p in ps if p.dim() >= 2], "weight_decay": 0.1},
                              {"params": [p for p in ps if p.dim() < 2], "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))

def timed(step, reps):
    t = time.time()
    calls = 0
    while time.time() - t < 1.0: step(); calls += 1
    inner = max(1, math.ceil(0.05 / ((time.time() - t) / calls)))
    walls, cpus = [], []
    for _ in range(reps):
        c0 = time.process_time(); t0 = time.perf_counter()
        for _ in range(inner): step()
        walls.append((time.perf_counter() - t0) / inner); cpus.append((time.process_time() - c0) / inner)
    return statistics.median(walls), statistics.median(cpus)

results = {}
def report(label, wall, cpu, tokens):
    results[label] = wall * 1e3; results[label + " cpu"] = cpu * 1e3; results[label + " tokens/s"] = tokens / wall
    if not args.json: print(f"{label:<34} wall {wall * 1e3:8.2f} ms   cpu {cpu * 1e3:8.2f} ms   {tokens / wall:10,.0f} tokens/s")

def selected(label): return args.filter is None or args.filter.lower() in label.lower()
torch.manual_seed(1337)
if selected("gpt step"):
    m = GPT(V); opt = optimizer(m)
    def step():
        x, y = batch(train, 12, 64)
        loss = F.cross_entropy(m(x).view(-1, V), y.view(-1))
        opt.zero_grad(set_to_none=True); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
    report("gpt step", *timed(step, args.reps), 12 * 64)
if selected("lstm step"):
    class CharLstm(nn.Module):
        def __init__(s):
            super().__init__(); s.embedding = nn.Embedding(V, 256); s.lstm = nn.LSTM(256, 256, 2, batch_first=True); s.head = nn.Linear(256, V)
        def forward(s, x): return s.head(s.lstm(s.embedding(x))[0])
    m = CharLstm(); opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0)
    def step():
        x, y = batch(train, 32, 64)
        loss = F.cross_entropy(m(x).reshape(-1, V), y.reshape(-1))
        opt.zero_grad(set_to_none=True); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
    report("lstm step", *timed(step, args.reps), 32 * 64)
if selected("generate"):
    m = GPT(V).eval()
    @torch.no_grad()
    def gen():
        idx = torch.tensor([[stoi["\n"]]])
        for _ in range(500):  # nanoGPT's generate: crop, full forward, sample the last position
            logits = m(idx[:, -m.block:])[:, -1, :] / 0.8
            idx = torch.cat((idx, torch.multinomial(F.softmax(logits, dim=-1), 1)), dim=1)
    wall, cpu = timed(gen, min(args.reps, 5))
    results["generate 500 chars/s"] = 500 / wall
    if not args.json: print(f"{'generate 500 (plain loop)':<34} {500 / wall:10,.0f} chars/s (cpu {cpu:.2f} s)")
if args.filter == "full":
    m = GPT(V); opt = optimizer(m); to_two = float("nan"); last = float("nan"); spent = 0.0
    for it in range(2000):
        t0 = time.perf_counter()
        lr = 1e-3 * (it + 1) / 101 if it < 100 else 1e-4 + 0.5 * (1 + math.cos(math.pi * (it - 100) / 1899)) * 9e-4
        for g in opt.param_groups: g["lr"] = lr
        m.train(); x, y = batch(train, 12, 64)
        loss = F.cross_entropy(m(x).view(-1, V), y.view(-1))
        opt.zero_grad(set_to_none=True); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
        spent += time.perf_counter() - t0
        if (it + 1) % 100 == 0:
            m.eval(); total = 0.0; cnt = 0
            with torch.no_grad():
                nb = (len(val) - 1) // 64
                for s0 in range(0, nb, 64):
                    idx = torch.arange(s0, min(nb, s0 + 64)) * 64
                    x = torch.stack([val[i:i + 64] for i in idx]); y = torch.stack([val[i + 1:i + 65] for i in idx])
                    total += F.cross_entropy(m(x).view(-1, V), y.view(-1), reduction="sum").item(); cnt += y.numel()
            last = total / cnt
            if math.isnan(to_two) and last <= 2.0: to_two = spent
    results["full run seconds to val 2.0"] = to_two; results["full run val loss after 2000"] = last; results["full run seconds"] = spent
    if not args.json: print(f"full run: val <= 2.0 after {to_two:.1f} s, val {last:.4f} nats after 2000 steps, {spent:.1f} s of training")
if args.json: print(json.dumps({"impl": "pytorch", "mode": "lm", "results": results}))
