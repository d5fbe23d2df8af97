#!/usr/bin/env bash
# Kindling beside PyTorch 1.13 on the same machine, in the same run: medians of several repetitions and ratios.
# Usage: bash bench/run.sh [gemm|elementwise|reductions|logsoftmax|losses|training|cnn|inference|tta ...]   (default: all modes)
# Needs Debian's python3-torch (installed here if missing; torch runs under the system Python: PYENV_VERSION=system).
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's torch calls the system BLAS; without OpenBLAS it falls back to the reference BLAS (~6 GFLOP/s), which
# would make every matmul comparison meaningless. libopenblas0-pthread registers itself as libblas.so.3.
if ! PYENV_VERSION=system python3 -c 'import torch' 2>/dev/null || [ ! -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ]; then
  echo "installing PyTorch 1.13 (python3-torch) and OpenBLAS ..." >&2
  apt-get update -qq && apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi
modes=("$@"); [ ${#modes[@]} -eq 0 ] && modes=(gemm elementwise reductions logsoftmax losses training cnn inference tta)
dotnet build bench/Kindling.Bench -c Release -v q -nologo >/dev/null
mkdir -p bench/results
for m in "${modes[@]}"; do
  k=bench/results/$m.kindling.json; t=bench/results/$m.torch.json
  dotnet bench/Kindling.Bench/bin/Release/net10.0/Kindling.Bench.dll "$m" --json > "$k"
  if [ "$m" = gemm ]; then PYENV_VERSION=system python3 bench/torch_gemm.py --json > "$t"
  elif [ "$m" = cnn ]; then PYENV_VERSION=system python3 bench/torch_cnn.py --json > "$t"
  else PYENV_VERSION=system python3 bench/torch_bench.py "$m" --json > "$t"; fi
  python3 - "$k" "$t" <<'PY'
import json, sys
k, t = (json.load(open(p)) for p in sys.argv[1:3])
unit = t.get("unit", "")
lower_better = unit in ("ms", "s")
print(f"\n== {k['mode']} ({unit}; {'lower' if lower_better else 'higher'} is better; ratio = Kindling/PyTorch speed) ==")
print(f"{'case':<34} {'kindling':>12} {'pytorch':>12} {'ratio':>8}")
for label, kv in k["results"].items():
    tv = t["results"].get(label)
    if tv is None:
        print(f"{label:<34} {kv:>12.3f} {'':>12} {'':>8}")
        continue
    ratio = (tv / kv) if lower_better else (kv / tv)
    print(f"{label:<34} {kv:>12.3f} {tv:>12.3f} {ratio:>7.2f}x")
PY
done
