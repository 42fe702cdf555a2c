#!/usr/bin/env bash
# Run one test tier (README "Tests"): pure | docker | multi-engine.
#   pure          unit tests and the test files that need no Docker (every tests/*.rs not *_docker.rs)
#   docker        every tests/*_docker.rs except the two that make test hosts (needs Docker and the images)
#   multi-engine  tests/multi_engine_docker.rs and tests/agents_docker.rs (as root: they make test hosts
#                 with scripts/test-hosts.sh)
# Extra arguments go to the test binaries (after --test-threads=1).
set -euo pipefail
cd "$(dirname "$0")/.."
tier="${1:-}"; shift || true
args=()
case "$tier" in
  pure)
    args+=(--lib)
    for f in tests/*.rs; do n=$(basename "$f" .rs); [[ $n == *_docker ]] || args+=(--test "$n"); done ;;
  docker)
    for f in tests/*_docker.rs; do n=$(basename "$f" .rs); [[ $n == multi_engine_docker || $n == agents_docker ]] || args+=(--test "$n"); done ;;
  multi-engine)
    args+=(--test multi_engine_docker --test agents_docker) ;;
  *) echo "usage: scripts/test-tier.sh pure|docker|multi-engine [test args]" >&2; exit 2 ;;
esac
exec cargo test "${args[@]}" -- --test-threads=1 "$@"
