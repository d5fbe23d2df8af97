"""PyTorch twin of `Kindling.Bench lstm` (bench/Kindling.Bench/RecurrentBench.cs): recurrent layers, forward +
backward of out.sum() with zero_grad() (in place, 1.13's default) between steps; wall and process CPU milliseconds.

Run: OMP_WAIT_POLICY=PASSIVE PYENV_VERSION=system python3 bench/torch_lstm.py [--json] [--threads N] [--reps N]
(PASSIVE: on a shared machine OpenMP's spinning threads would otherwise make the 2-thread runs several times slower.)
"""
import argparse, json, time
import torch
import torch.nn as nn


def median_wall_cpu(fn, reps, warmup=1.0, sample=0.05):
    t0 = time.perf_counter(); calls = 0
    while time.perf_counter() - t0 < warmup:
        fn(); calls += 1
    inner = max(1, int(sample / ((time.perf_counter() - t0) / calls) + 0.999))
    wall, cpu = [], []
    for _ in range(reps):
        w, c = time.perf_counter(), time.process_time()
        for _ in range(inner):
            fn()
        wall.append((time.perf_counter() - w) / inner)
        cpu.append((time.process_time() - c) / inner)
    wall.sort(); cpu.sort()
    return wall[len(wall) // 2], cpu[len(cpu) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=11)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    r = {}

    def case(label, m, T, B, backward):
        x = torch.randn(T, B, m.input_size)
        def step():
            if not backward:
                with torch.no_grad():
                    m(x)
                return
            m.zero_grad()
            m(x)[0].sum().backward()
        w, c = median_wall_cpu(step, a.reps)
        r[label] = w * 1e3
        r[label + " cpu"] = c * 1e3
        if not a.json:
            print(f"{label:<40} wall {w * 1e3:8.2f} ms   cpu {c * 1e3:8.2f} ms")

    case("lstm 128->256 T64 B32 fwd+bwd", nn.LSTM(128, 256), 64, 32, True)
    case("lstm 128->256 T64 B32 fwd", nn.LSTM(128, 256), 64, 32, False)
    case("gru 128->256 T64 B32 fwd+bwd", nn.GRU(128, 256), 64, 32, True)
    case("lstm 2x bidir 64->128 T32 B16 fwd+bwd", nn.LSTM(64, 128, num_layers=2, bidirectional=True), 32, 16, True)
    if a.json:
        print(json.dumps({"impl": "pytorch", "mode": "lstm", "threads": a.threads, "results": r, "unit": "ms"}))


main()
