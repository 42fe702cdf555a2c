#!/usr/bin/env bash
# Build the zkchaos ZooKeeper image without any container registry:
# Debian bookworm packages (ZooKeeper 3.8.0 from libzookeeper-java, OpenJDK 17 headless)
# -> mmdebstrap root filesystem tarball -> `docker import`.
#
# Usage: docker/build-image.sh [TAG]      (default TAG: zkchaos/zookeeper:3.8.0)
# Idempotent: returns at once when the image already exists (set ZKCHAOS_REBUILD=1 to force).
set -euo pipefail

TAG="${1:-zkchaos/zookeeper:3.8.0}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SUITE="${ZKCHAOS_SUITE:-bookworm}"
PACKAGES="openjdk-17-jre-headless,libzookeeper-java,libslf4j-java,ca-certificates-java"

die() { echo "zkchaos image build: $*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed; install Docker Engine (apt-get install docker.io) and retry."
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine (DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}); start it (e.g. 'service docker start') and retry."

if [ -z "${ZKCHAOS_REBUILD:-}" ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "image $TAG already present ($(docker image inspect -f '{{.Id}}' "$TAG" | cut -c8-19)); nothing to do"
  exit 0
fi

command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is missing; install it with 'apt-get install -y mmdebstrap' (Debian package) and retry."
[ "$(id -u)" = 0 ] || die "building the root filesystem needs root (mmdebstrap root mode); run as root or with sudo."

WORK="$(mktemp -d /tmp/zkchaos-image.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
started=$(date +%s)
echo "building $TAG from Debian $SUITE packages (this takes about a minute)..."
mmdebstrap --variant=apt --mode=root \
  --include="$PACKAGES" \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="copy-in $HERE/zkServer.sh /usr/local/bin" \
  --customize-hook='chmod 0755 "$1/usr/local/bin/zkServer.sh"' \
  --customize-hook='mkdir -p "$1/zkchaos/conf" "$1/zkchaos/data"' \
  --customize-hook='rm -rf "$1/var/lib/apt/lists/"* "$1/var/cache/apt/"*' \
  "$SUITE" "$WORK/rootfs.tar" >"$WORK/mmdebstrap.log" 2>&1 \
  || { tail -n 20 "$WORK/mmdebstrap.log" >&2; die "mmdebstrap failed (log above); check that Debian's package mirror is reachable."; }

docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'LABEL zkchaos.image-kind=debian zkchaos.zookeeper-version=3.8.0' \
  --change 'WORKDIR /zkchaos' \
  --change 'CMD ["zkServer.sh", "start-foreground", "/zkchaos/conf/zoo.cfg"]' \
  "$WORK/rootfs.tar" "$TAG" >/dev/null

size=$(docker image inspect -f '{{.Size}}' "$TAG")
echo "built $TAG in $(( $(date +%s) - started )) s, $(( size / 1000000 )) MB"
