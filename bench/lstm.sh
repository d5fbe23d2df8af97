#!/usr/bin/env bash
# Recurrent layers: Kindling beside PyTorch 1.13 in the same run (medians; wall and CPU milliseconds; ratio = PyTorch
# wall / Kindling wall). PyTorch runs with OMP_WAIT_POLICY=PASSIVE so its idle OpenMP threads do not spin on a shared
# machine. Usage: bash bench/lstm.sh [--threads N] [--reps N]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Kindling.Bench -c Release -v q -nologo >/dev/null
mkdir -p bench/results
dotnet bench/Kindling.Bench/bin/Release/net10.0/Kindling.Bench.dll lstm --json "$@" > bench/results/lstm.kindling.json
OMP_WAIT_POLICY=PASSIVE PYENV_VERSION=system python3 bench/torch_lstm.py --json "$@" > bench/results/lstm.torch.json
python3 - bench/results/lstm.kindling.json bench/results/lstm.torch.json <<'PY'
import json, sys
k, t = (json.load(open(p))["results"] for p in sys.argv[1:3])
print(f"{'case':<40} {'kindling wall':>13} {'cpu':>8} {'pytorch wall':>13} {'cpu':>8} {'ratio':>7}")
for label in k:
    if label.endswith(" cpu"): continue
    kw, kc, tw, tc = k[label], k[label + " cpu"], t[label], t[label + " cpu"]
    print(f"{label:<40} {kw:>10.2f} ms {kc:>8.2f} {tw:>10.2f} ms {tc:>8.2f} {tw / kw:>6.2f}x")
PY
