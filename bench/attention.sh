#!/usr/bin/env bash
# Attention and transformer layers, Kindling beside PyTorch 1.13 in the same run (2 threads each; PyTorch with
# OMP_WAIT_POLICY=PASSIVE). Prints both tables and the speed ratios (PyTorch time / Kindling time) of wall and CPU time.
# Usage: bash bench/attention.sh [--reps N]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Kindling.Bench -c Release -v q -nologo >/dev/null
mkdir -p bench/results
# Tier-1 JIT compiles in a background thread; on a loaded machine it starves, and a 1 s warm-up then measures tier-0
# code (3x slower here). Compiling fully optimised code up front measures the steady state PyTorch's C++ is held to.
DOTNET_TieredCompilation=0 dotnet bench/Kindling.Bench/bin/Release/net10.0/Kindling.Bench.dll attention --threads 2 --json "$@" > bench/results/attention.kindling.json
OMP_WAIT_POLICY=PASSIVE PYENV_VERSION=system python3 bench/torch_attention.py --threads 2 --json "$@" > bench/results/attention.torch.json
python3 - bench/results/attention.kindling.json bench/results/attention.torch.json <<'PY'
import json, sys
k, t = (json.load(open(p))["results"] for p in sys.argv[1:3])
print(f"{'case (ms, medians)':<44} {'kindling':>9} {'pytorch':>9} {'speed-up':>9}")
for label, kv in k.items():
    tv = t.get(label)
    print(f"{label:<44} {kv:>9.3f} {tv:>9.3f} {tv / kv:>8.2f}x")
PY
