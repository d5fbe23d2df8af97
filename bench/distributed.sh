#!/usr/bin/env bash
# Data-parallel training throughput, Kindling (Open MPI) beside PyTorch DistributedDataParallel (gloo) in the same run:
# Fashion-MNIST MLP 784-256-128-10, Adam, global batch 128, as 1 process × 2 threads, 2 processes × 1 thread and
# 4 processes × 1 thread (oversubscribed on a 2-core machine). Usage: bash bench/distributed.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
command -v mpirun >/dev/null || { echo "needs Open MPI: apt-get install openmpi-bin libopenmpi-dev" >&2; exit 1; }
dotnet build bench/Kindling.Bench -c Release -v q -nologo >/dev/null
B=bench/Kindling.Bench/bin/Release/net10.0/Kindling.Bench.dll
mkdir -p bench/results
out=bench/results/ddp.json
echo "{" > "$out"
first=1
for cfg in 1x2 2x1 4x1; do
  np=${cfg%x*}; th=${cfg#*x}
  if [ "$np" = 1 ]; then k=$(dotnet "$B" ddp --threads "$th" --reps "$reps" --json)
  else k=$(mpirun --allow-run-as-root --oversubscribe -np "$np" dotnet "$B" ddp --threads "$th" --reps "$reps" --json </dev/null | grep -o '{"impl".*'); fi
  t=$(timeout 900 env PYENV_VERSION=system python3 bench/torch_ddp.py --np "$np" --threads "$th" --reps "$reps" --json | grep -o '{"impl".*')
  [ $first = 1 ] || echo "," >> "$out"; first=0
  echo "\"$cfg\": {\"kindling\": $k, \"pytorch\": $t}" >> "$out"
done
echo "}" >> "$out"
python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"{'processes x threads':<20} {'kindling samples/s':>19} {'pytorch samples/s':>18} {'ratio':>7} {'K step ms':>10} {'K allreduce ms/step':>20} {'K bare allreduce ms':>20} {'PT bare allreduce ms':>21}")
for cfg, v in d.items():
    k, t = v["kindling"]["results"], v["pytorch"]["results"]
    lab = f"ddp 784-256-128-10 adam b128 {cfg}"
    print(f"{cfg:<20} {k[lab]:>19.0f} {t[lab]:>18.0f} {k[lab]/t[lab]:>6.2f}x {k[lab+' step ms']:>10.2f} {k[lab+' allreduce ms/step']:>20.2f} {k[lab+' bare allreduce ms']:>20.2f} {t[lab+' bare allreduce ms']:>21.2f}")
PY
