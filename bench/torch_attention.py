"""PyTorch twin of `Kindling.Bench attention`: MultiheadAttention(128, 4) causal and TransformerEncoderLayer(128, 4, 512)
forward + backward at T 64, batch 12, batch first, dropout 0, float32; the causal mask is 1.13's float attn_mask
(generate_square_subsequent_mask). Medians of wall and process CPU time per step (ms). Run with OMP_WAIT_POLICY=PASSIVE
(bench/attention.sh does): PyTorch's spinning OpenMP workers otherwise slow it several-fold on a loaded 2-core machine.

Run: OMP_WAIT_POLICY=PASSIVE PYENV_VERSION=system python3 bench/torch_attention.py [--json] [--threads N] [--reps N]
"""
import argparse, json, time
import torch
import torch.nn as nn


def measure(body, reps):
    t = time.perf_counter()
    calls = 0
    while time.perf_counter() - t < 1.0:
        body(); calls += 1
    inner = max(1, int(0.05 / ((time.perf_counter() - t) / calls)) + 1)
    wall, cpu = [], []
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(inner):
            body()
        wall.append((time.perf_counter() - t0) / inner)
        cpu.append((time.process_time() - c0) / inner)
    wall.sort(); cpu.sort()
    return wall[reps // 2], cpu[reps // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=11)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    N, T, E, H = 12, 64, 128, 4
    x = torch.randn(N, T, E, requires_grad=True)
    gy = torch.randn(N, T, E)
    mask = nn.Transformer.generate_square_subsequent_mask(T)
    mha = nn.MultiheadAttention(E, H, batch_first=True)
    enc = nn.TransformerEncoderLayer(E, H, 512, dropout=0.0, batch_first=True)

    def mha_step():
        x.grad = None
        mha(x, x, x, attn_mask=mask, need_weights=False)[0].backward(gy)

    def enc_step():
        x.grad = None
        enc(x, src_mask=mask).backward(gy)

    def mha_fwd():
        with torch.no_grad():
            mha(x, x, x, attn_mask=mask, need_weights=False)

    res = {}
    for label, body in [("mha causal fwd+bwd", mha_step), ("encoder layer causal fwd+bwd", enc_step), ("mha causal fwd (no grad)", mha_fwd)]:
        w, c = measure(body, a.reps)
        res[label + " [wall]"] = round(w * 1e3, 3)
        res[label + " [cpu]"] = round(c * 1e3, 3)
        if not a.json:
            print(f"{label:<34} wall {w * 1e3:8.3f} ms   cpu {c * 1e3:8.3f} ms")
    if a.json:
        print(json.dumps({"impl": "pytorch", "mode": "attention", "threads": a.threads, "torch": torch.__version__, "results": res, "unit": "ms"}))


main()
