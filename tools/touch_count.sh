#!/usr/bin/env bash
# Prints how many files adding one component touched: the commit that added its definition file, by git, its files
# split into library source (src/), tests (tests/) and PyTorch references (tools/parity/: generator and fixtures).
# The goal (issue 19): one src/ file per new unary op, activation, pointwise loss or optimizer.
# Usage: tools/touch_count.sh [KIND=FILE ...]   (defaults: the components added this way so far)
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
if [ $# -eq 0 ]; then
  set -- "pointwise loss (log_cosh_loss)=src/Kindling/NN/Functional/LogCosh.cs" \
         "activation (softplus)=src/Kindling/NN/Functional/Softplus.cs" \
         "optimizer (Adamax)=src/Kindling/Optim/Adamax.cs" \
         "optimizer (NAdam)=src/Kindling/Optim/NAdam.cs"
fi
printf '| component | commit | src/ files | tests/ files | tools/parity/ files | src/ files touched |\n|---|---|---|---|---|---|\n'
for spec in "$@"; do
  kind=${spec%%=*}; file=${spec#*=}
  commit=$(git log --diff-filter=A --format=%h -1 -- "$file" || true)
  if [ -z "$commit" ]; then printf '| %s | (not added: %s) | | | | |\n' "$kind" "$file"; continue; fi
  files=$(git show --format= --name-only "$commit")
  src=$(grep -c '^src/' <<<"$files" || true)
  tests=$(grep -c '^tests/' <<<"$files" || true)
  parity=$(grep -c '^tools/parity/' <<<"$files" || true)
  other=$(grep -vc -e '^src/' -e '^tests/' -e '^tools/parity/' <<<"$files" || true)
  [ "$other" -gt 0 ] && parity="$parity (+$other other)"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$kind" "$commit" "$src" "$tests" "$parity" "$(grep '^src/' <<<"$files" | tr '\n' ' ')"
done
