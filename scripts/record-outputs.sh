#!/usr/bin/env bash
# Records what the headless commands print for every file and folder in ../shared/samples:
# `gnorm --json`, `similarity --json` and `gnorm --follow --jsonl` (stdout, stderr, exit code).
# Run it before and after a restructuring and diff the two folders:
#   scripts/record-outputs.sh target/release/trainwatch /tmp/before
#   (change things, cargo build --release)
#   scripts/record-outputs.sh target/release/trainwatch /tmp/after && diff -r /tmp/before /tmp/after
set -euo pipefail
bin=$(realpath "$1")
out=$2
samples=$(realpath "$(dirname "$0")/../../shared/samples")
mkdir -p "$out"
cd "$samples"
record() { # name, then the command
  local name=$1; shift
  local f="$out/$name"
  set +e
  "$@" >"$f.out" 2>"$f.err" </dev/null
  echo $? >"$f.rc"
  set -e
}
find . -mindepth 1 \( -type f -o -type d \) ! -name MANIFEST.md ! -name '*.py' | sort | while read -r p; do
  name=$(echo "${p#./}" | tr '/' '~')
  record "$name.gnorm" "$bin" gnorm "$p" --json
  record "$name.similarity" "$bin" similarity "$p" --json
  if [ -f "$p" ]; then
    # The follower prints what is there, then waits: SIGTERM after 1.5 s ends it with its summary.
    record "$name.follow" timeout --foreground -s TERM 1.5 "$bin" gnorm "$p" --follow --jsonl
  fi
done
echo "recorded $(ls "$out" | wc -l) files in $out"
