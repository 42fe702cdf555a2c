#!/usr/bin/env bash
# Build the zkchaos load agent image without any container registry: the Debian bookworm root
# filesystem of the netem helper image (zkchaos/netem:bookworm, itself made from Debian packages
# by docker/build-netem-image.sh) + the zkchaos binary, entrypoint `zkchaos`.
#
# Usage: docker/build-agent-image.sh [--force] [--binary PATH] [TAG]   (default TAG zkchaos/agent:latest,
#        default PATH target/release/zkchaos)
#
# zkchaos runs this image as a load agent (`zkchaos agent`, host networking) on the engines a
# profile's [load.agents] names; the binary must run on Debian bookworm's glibc (build it on
# bookworm or older). A test-host engine gets it with `scripts/test-hosts.sh load-image TAG`.
# Idempotent: returns at once when the tag exists and carries the same binary (sha256 label);
# --force or ZKCHAOS_REBUILD=1 rebuilds.
set -euo pipefail

die() { echo "zkchaos agent image build: $*" >&2; exit 1; }
TAG="" FORCE="${ZKCHAOS_REBUILD:-}" BINARY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --force|-f) FORCE=1; shift ;;
    --binary) [ $# -ge 2 ] || die "--binary needs a path"; BINARY="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$TAG" ] || die "more than one TAG ($TAG, $1)"; TAG="$1"; shift ;;
  esac
done
TAG="${TAG:-zkchaos/agent:latest}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BINARY="${BINARY:-$ROOT/target/release/zkchaos}"
BASE="zkchaos/netem:bookworm"

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed; install Docker Engine and retry."
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine; start it and retry."
[ -x "$BINARY" ] || die "no zkchaos binary at $BINARY; build it with 'cargo build --release' or pass --binary PATH."
SUM="$(sha256sum "$BINARY" | cut -c1-64)"
if [ -z "$FORCE" ] && [ "$(docker image inspect -f '{{ index .Config.Labels "zkchaos.binary-sha256" }}' "$TAG" 2>/dev/null || true)" = "$SUM" ]; then
  echo "image $TAG already carries this binary; nothing to do"
  exit 0
fi
docker image inspect "$BASE" >/dev/null 2>&1 || die "the base image $BASE is missing; build it with docker/build-netem-image.sh (Debian packages, no registry) and retry."

WORK="$(mktemp -d /tmp/zkchaos-agent.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cp "$BINARY" "$WORK/zkchaos"
cat >"$WORK/Dockerfile" <<DOCKERFILE
FROM $BASE
COPY zkchaos /usr/local/bin/zkchaos
LABEL zkchaos.image-kind=agent zkchaos.binary-sha256=$SUM
ENTRYPOINT ["/usr/local/bin/zkchaos"]
CMD ["agent", "--help"]
DOCKERFILE
started=$(date +%s)
DOCKER_BUILDKIT=0 docker build -q -t "$TAG" "$WORK" >/dev/null 2>"$WORK/build.log" \
  || { cat "$WORK/build.log" >&2; die "docker build failed (log above)"; }
echo "built $TAG in $(( $(date +%s) - started )) s from $BASE + $BINARY"
