"""PyTorch reference for `Kindling.Bench gemm`: same shapes, same median-GFLOP/s reporting.

Run: PYENV_VERSION=system python3 bench/torch_gemm.py [--json] [--threads N]

Debian's torch calls whatever libblas.so.3 the alternatives system points at. With only the netlib
reference BLAS installed, torch.mm runs at ~6 GFLOP/s, which is no baseline; the script then warns.
Install libopenblas0-pthread (or point LD_LIBRARY_PATH at its openblas-pthread directory, with
OPENBLAS_NUM_THREADS=2) to compare against OpenBLAS.
"""
import argparse
import json
import sys
import time

import torch

# (label, transA, transB, m, n, k) — op(A) is m×k, op(B) is k×n, matching Gemm.Sgemm.
SHAPES = [
    ("gemm 64x64x64", False, False, 64, 64, 64),
    ("gemm 256x256x256", False, False, 256, 256, 256),
    ("gemm 1024x1024x1024", False, False, 1024, 1024, 1024),
    ("gemm 2048x2048x2048", False, False, 2048, 2048, 2048),
    # MLP step, batch 128, 784 -> 256: Y = X·W, dX = G·W^T, dW = X^T·G.
    ("mlp-fwd 128x256x784", False, False, 128, 256, 784),
    ("linear-fwd 128x256x784 NT", False, True, 128, 256, 784),  # nn.Linear: x @ W.t(), W stored (out, in)
    ("mlp-dX 128x784x256 NT", False, True, 128, 784, 256),
    ("mlp-dW 784x256x128 TN", True, False, 784, 256, 128),
]


def operands(ta, tb, m, n, k):
    g = torch.Generator().manual_seed(1)
    a = torch.rand((k, m) if ta else (m, k), generator=g) * 2 - 1
    b = torch.rand((n, k) if tb else (k, n), generator=g) * 2 - 1
    # .t() is a strided view, so torch.mm hands BLAS a transposed operand rather than copying it.
    return (a.t() if ta else a), (b.t() if tb else b), torch.empty(m, n)


def median_gflops(ta, tb, m, n, k, reps, min_seconds=0.05):
    a, b, c = operands(ta, tb, m, n, k)
    flop = 2.0 * m * n * k
    inner = 1
    while True:  # size the inner loop so one timed sample lasts at least min_seconds
        t0 = time.perf_counter()
        for _ in range(inner):
            torch.mm(a, b, out=c)
        if time.perf_counter() - t0 >= min_seconds:
            break
        inner *= 2
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            torch.mm(a, b, out=c)
        samples.append((time.perf_counter() - t0) / inner)
    samples.sort()
    return flop / samples[len(samples) // 2] / 1e9


def loaded_blas():
    """Path of the BLAS shared library torch actually resolved (Linux), or "unknown"."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and ".so" in line}
        return ", ".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true", help="print {label: median GFLOP/s} as JSON")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=11)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.mm(torch.ones(8, 8), torch.ones(8, 8))  # make sure the BLAS library is loaded before we look
    blas = loaded_blas()
    if "openblas" not in blas.lower() and "mkl" not in blas.lower():
        print(f"warning: torch is using {blas}; that is probably the netlib reference BLAS, not a tuned one",
              file=sys.stderr)
    results = {}
    for label, ta, tb, m, n, k in SHAPES:
        g = median_gflops(ta, tb, m, n, k, args.reps)
        results[label] = round(g, 1)
        if not args.json:
            print(f"{label:<26} torch    {g:8.1f} GFLOP/s", flush=True)
    if args.json:
        print(json.dumps({"impl": "torch", "mode": "gemm", "threads": args.threads, "torch": torch.__version__,
                          "blas": blas, "results": results, "unit": "GFLOP/s"}))


if __name__ == "__main__":
    main()
