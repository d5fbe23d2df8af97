#!/usr/bin/env bash
# Language models: Kindling beside PyTorch 1.13 in the same run (medians; wall and CPU ms; tokens/s; ratio = Kindling
# speed / PyTorch speed). PyTorch runs with OMP_WAIT_POLICY=PASSIVE. Usage: bash bench/lm.sh [--threads N] [--reps N]
# Add --filter full for the whole 2000-step nanoGPT run on each side (several minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Kindling.Bench -c Release -v q -nologo >/dev/null
mkdir -p bench/results
dotnet bench/Kindling.Bench/bin/Release/net10.0/Kindling.Bench.dll lm --json "$@" > bench/results/lm.kindling.json
OMP_WAIT_POLICY=PASSIVE PYENV_VERSION=system python3 bench/torch_lm.py --json "$@" > bench/results/lm.torch.json
python3 - bench/results/lm.kindling.json bench/results/lm.torch.json <<'PY'
import json, sys
k, t = (json.load(open(p))["results"] for p in sys.argv[1:3])
print(f"{'case':<32} {'kindling':>14} {'pytorch':>14} {'ratio':>7}")
for label, kv in k.items():
    tv = t.get(label)
    if tv is None: print(f"{label:<32} {kv:>14.3f}"); continue
    higher = label.endswith("/s")
    lower = label.endswith(" cpu") or label.endswith("seconds") or "seconds to" in label or label in ("gpt step", "lstm step")
    ratio = kv / tv if higher else tv / kv if lower else float("nan")
    print(f"{label:<32} {kv:>14.3f} {tv:>14.3f} {ratio:>6.2f}x")
PY
