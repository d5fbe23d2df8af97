#!/usr/bin/env bash
# Renders a kindling HTML report to a PNG screenshot with headless Chromium, so a report's layout
# can be checked without a desktop browser (e.g. in CI or over SSH).
#
# usage: tools/render_report.sh REPORT.html OUT.png
# env:   WINDOW_SIZE (default 1200,2000)  CHROMIUM (default /usr/bin/chromium)
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 REPORT.html OUT.png" >&2
  exit 2
fi
in=$1
out=$2
chromium=${CHROMIUM:-/usr/bin/chromium}
window=${WINDOW_SIZE:-1200,2000}

if [ ! -f "$in" ]; then
  echo "render_report: no such file: $in" >&2
  exit 1
fi

if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "render_report: $chromium not found; install it with: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  echo "render_report: installing chromium..." >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >&2
fi

abs_in=$(realpath "$in")
abs_out=$(realpath -m "$out")
mkdir -p "$(dirname "$abs_out")"
rm -f "$abs_out"   # so a stale screenshot cannot pass for a fresh one

# Percent-encode the characters that would otherwise change the meaning of a file:// URL.
url_path=$(printf '%s' "$abs_in" | sed -e 's/%/%25/g' -e 's/ /%20/g' -e 's/#/%23/g' -e 's/?/%3F/g')

# A throwaway profile keeps runs independent and leaves nothing behind in $HOME.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

# Chromium is chatty on stderr (dbus, GPU fallbacks) even when it succeeds; keep the log only for failures.
log="$profile/chromium.log"
if ! "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" \
    --screenshot="$abs_out" --window-size="$window" "file://$url_path" >"$log" 2>&1; then
  cat "$log" >&2
  echo "render_report: chromium failed" >&2
  exit 1
fi

if [ ! -s "$abs_out" ]; then
  cat "$log" >&2
  echo "render_report: chromium wrote no screenshot to $abs_out" >&2
  exit 1
fi
echo "$abs_out"
