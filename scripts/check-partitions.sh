#!/usr/bin/env bash
# Checks that `cargo nextest run --partition count:K/N` splits the scenario suite into N
# parts that add up to the whole: every case in exactly one part, none lost, none twice.
# Usage: scripts/check-partitions.sh [N]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-3}"
list() { cargo nextest list --test scenarios --message-format oneline "$@" 2>/dev/null | sort; }
whole=$(list)
parts=$(for k in $(seq 1 "$n"); do list --partition "count:$k/$n"; done | sort)
if [ -z "$whole" ]; then echo "no cases listed" >&2; exit 1; fi
twice=$(printf '%s\n' "$parts" | uniq -d)
if [ -n "$twice" ]; then printf 'in more than one partition:\n%s\n' "$twice" >&2; exit 1; fi
if [ "$whole" != "$parts" ]; then
  echo "partitions do not add up to the whole suite:" >&2
  diff <(printf '%s\n' "$whole") <(printf '%s\n' "$parts") >&2 || true
  exit 1
fi
echo "ok: $(printf '%s\n' "$whole" | wc -l) cases in $n partitions, each exactly once"
