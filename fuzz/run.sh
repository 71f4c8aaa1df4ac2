#!/usr/bin/env bash
# Runs one fuzz target for SECONDS (default 10) on its seeds (made by seed.sh when missing)
# and its growing corpus (fuzz/corpus/TARGET): a hang over 2 s or 2 GiB of memory is a crash.
#   fuzz/run.sh TARGET [SECONDS] [more libFuzzer flags]
#   fuzz/run.sh all [SECONDS]       every target in turn
# Stable Rust: libFuzzer without sanitizer (`--sanitizer none`); no nightly needed.
# FUZZ_TIMEOUT=N raises the hang limit on a machine too loaded for 2 s.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh TARGET|all [SECONDS] [libFuzzer flags]}
secs=${2:-10}
shift $(( $# < 2 ? $# : 2 ))
[ -d seeds ] || ./seed.sh
max_len() {
  case $1 in
    framing | text_formats | csv | pytorch) echo 16384 ;;
    mlflow | discovery) echo 8192 ;;
    *) echo 65536 ;;
  esac
}
run() {
  local t=$1
  shift
  mkdir -p "corpus/$t" "seeds/$t"
  cargo fuzz run --sanitizer none "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout="${FUZZ_TIMEOUT:-2}" -max_len="$(max_len "$t")" \
    -print_final_stats=1 "$@"
}
if [ "$target" = all ]; then
  for t in $(cargo fuzz list); do run "$t" "$@"; done
else
  run "$target" "$@"
fi
