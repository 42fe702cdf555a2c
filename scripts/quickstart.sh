#!/usr/bin/env bash
# One command from a fresh machine to a real expansion comparison:
# install prerequisites and the image, build zkchaos, run the five expansion strategies on their
# default profiles under the same load, and compare them.
# Output: results/<profile>/latest/ per run and results/comparison/ (comparison.md, .html, charts).
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || exit $?
cargo build --release || exit $?

profiles=(restart-1to3-new-first restart-1to3-old-first rolling-3to5 reconfig-1to3 reconfig-3to5)
failed=0
for p in "${profiles[@]}"; do
  echo "=== zkchaos run profiles/$p.toml"
  ./target/release/zkchaos run "profiles/$p.toml"
  code=$?
  # 3 means the run completed and a safety check failed: that is a finding, not a harness error.
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then failed=1; fi
done
./target/release/zkchaos compare "${profiles[@]/#/results/}" --out results/comparison || failed=1
echo "comparison: results/comparison/comparison.md (and comparison.html)"
exit $failed
