#!/usr/bin/env bash
# Memory mode: peak resident set size (/usr/bin/time's "Maximum resident set size") of Kindling beside PyTorch 1.13,
# in the same run, and the epoch time of each.
# Usage: bash bench/memory.sh [fashion|csv|loader|gc ...]   (default: fashion csv loader)
#   fashion  one epoch of `kindling train --data fashion-mnist --hidden 256,128 --batch-size 128` vs bench/torch_memory.py
#   csv      one epoch of the CLI on a 1,000,000 × 20 numeric CSV (+ target; written once to bench/results/big.csv)
#            vs numpy.loadtxt + the same MLP in PyTorch; the target is a peak of at most 3× the float32 data (84 MB)
#   loader   the library's DataLoader over a 2 GB uint8 tensor (Kindling.Bench loader) vs torch's DataLoader
#   gc       the fashion run under GC variants (RetainVM, large-object threshold, concurrent GC), peak and epoch time
set -euo pipefail
cd "$(dirname "$0")/.."
modes=("$@"); [ ${#modes[@]} -eq 0 ] && modes=(fashion csv loader)
dotnet build src/Kindling.Cli -c Release -v q -nologo >/dev/null
dotnet build bench/Kindling.Bench -c Release -v q -nologo >/dev/null
K=src/Kindling.Cli/bin/Release/net10.0/Kindling.Cli.dll
mkdir -p bench/results
out=bench/results/memory-run
peak() { /usr/bin/time -f "%M" -o bench/results/time.txt "$@" >/dev/null 2>bench/results/stderr.txt || { cat bench/results/stderr.txt >&2; exit 1; }; echo $(( $(tail -1 bench/results/time.txt) / 1024 )); }
epoch_s() { python3 -c "import csv,sys; r=list(csv.DictReader(open('$out/epochs.csv'))); print(f\"{float(r[0]['seconds']):.1f}\")"; }
torch_field() { python3 -c "import json,sys; d=json.loads(open('bench/results/torch.json').read()); print($1)"; }
kindling_train() { peak dotnet $K train "$@" --epochs 1 --out $out --overwrite; }
for m in "${modes[@]}"; do
  case $m in
  fashion)
    kr=$(kindling_train --data fashion-mnist --hidden 256,128 --batch-size 128); ke=$(epoch_s)
    PYENV_VERSION=system python3 bench/torch_memory.py fashion > bench/results/torch.json
    tr=$(torch_field "d['peak_rss_bytes']//2**20"); te=$(torch_field "round(d['epoch_seconds'],1)")
    echo "fashion  Kindling peak ${kr} MB, epoch ${ke} s | PyTorch peak ${tr} MB, epoch ${te} s | peak ratio $(python3 -c "print(round($kr/$tr,2))")x";;
  csv)
    f=bench/results/big.csv
    [ -f $f ] || PYENV_VERSION=system python3 -c "
import numpy as np
r = np.random.default_rng(0)
x = r.standard_normal((1_000_000, 20)).astype(np.float32)
y = (x @ r.standard_normal(20).astype(np.float32) + 0.1 * r.standard_normal(1_000_000)).astype(np.float32)
np.savetxt('$f', np.column_stack([x, y]), fmt='%.6g', delimiter=',', header=','.join([f'f{i}' for i in range(20)] + ['target']), comments='')"
    kr=$(kindling_train --data $f --target target --hidden 256,128 --batch-size 1024); ke=$(epoch_s)
    PYENV_VERSION=system python3 bench/torch_memory.py csv $f > bench/results/torch.json
    tr=$(torch_field "d['peak_rss_bytes']//2**20"); te=$(torch_field "round(d['epoch_seconds'],1)")
    echo "csv 1M×20  Kindling peak ${kr} MB ($(python3 -c "print(round($kr*2**20/84e6,1))")× the 84 MB of float32 data), epoch ${ke} s | PyTorch (numpy.loadtxt) peak ${tr} MB, epoch ${te} s";;
  loader)
    kr=$(peak dotnet bench/Kindling.Bench/bin/Release/net10.0/Kindling.Bench.dll loader)
    PYENV_VERSION=system python3 bench/torch_memory.py loader > bench/results/torch.json
    tr=$(torch_field "d['peak_rss_bytes']//2**20")
    echo "loader 2 GB uint8  Kindling peak ${kr} MB | PyTorch peak ${tr} MB (a float32 copy would add 8000 MB)";;
  gc)
    for v in "default (RetainVM, LOH 64 MB, non-concurrent)|" "RetainVM off|DOTNET_GCRetainVM=0" "LOH threshold .NET default (85 KB)|DOTNET_GCLOHThreshold=0x14C08" \
             "concurrent GC|DOTNET_gcConcurrent=1" "conserve memory 5|DOTNET_GCConserveMemory=5"; do
      name=${v%%|*}; envs=${v#*|}
      kr=$(env $envs true && env $envs /usr/bin/time -f "%M" -o bench/results/time.txt dotnet $K train --data fashion-mnist --hidden 256,128 --batch-size 128 --epochs 2 --out $out --overwrite >/dev/null 2>&1 && echo $(( $(tail -1 bench/results/time.txt) / 1024 )))
      e=$(python3 -c "import csv; r=list(csv.DictReader(open('$out/epochs.csv'))); print(f\"{float(r[0]['seconds']):.1f} / {float(r[1]['seconds'])-float(r[0]['seconds']):.1f}\")")
      echo "gc  ${name}: peak ${kr} MB, epoch 1 / epoch 2 ${e} s"
    done;;
  *) echo "unknown mode $m (fashion, csv, loader, gc)" >&2; exit 2;;
  esac
done
