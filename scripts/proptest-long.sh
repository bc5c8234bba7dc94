#!/bin/sh
# The property tests (src/properties.rs) with a longer budget than CI's 64 cases each:
#   scripts/proptest-long.sh            # 10,000 cases per property
#   scripts/proptest-long.sh 100000     # or as many as given
set -eu
cases="${1:-10000}"
PROPTEST_CASES="$cases" exec cargo test --release --lib properties -- --test-threads 2
