#!/usr/bin/env bash
# Build the zkchaos netem helper image without any container registry: Debian bookworm's iproute2
# (for `tc qdisc ... netem`) -> mmdebstrap root filesystem tarball -> `docker import`.
#
# Usage: docker/build-netem-image.sh [--force] [TAG]     (default TAG zkchaos/netem:bookworm)
#
# zkchaos runs this image as a short-lived helper container sharing a ZooKeeper container's
# network namespace (network_mode container:<target>) with NET_ADMIN, the only container that
# holds that capability; the ZooKeeper containers stay unprivileged. Idempotent: returns at once
# when the tag exists (--force or ZKCHAOS_REBUILD=1 rebuilds).
set -euo pipefail

die() { echo "zkchaos netem image build: $*" >&2; exit 1; }
TAG="" FORCE="${ZKCHAOS_REBUILD:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --force|-f) FORCE=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$TAG" ] || die "more than one TAG ($TAG, $1)"; TAG="$1"; shift ;;
  esac
done
TAG="${TAG:-zkchaos/netem:bookworm}"

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed; install Docker Engine and retry."
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine; start it and retry."
if [ -z "$FORCE" ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "image $TAG already present; nothing to do"
  exit 0
fi
command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is missing; install it with 'apt-get install -y mmdebstrap' and retry."
[ "$(id -u)" = 0 ] || die "building the root filesystem needs root (mmdebstrap root mode); run as root or with sudo."

WORK="$(mktemp -d /tmp/zkchaos-netem.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
started=$(date +%s)
echo "building $TAG: iproute2 from Debian bookworm packages..."
mmdebstrap --variant=essential --mode=root \
  --include=iproute2 \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --customize-hook="dpkg-query --admindir=\"\$1/var/lib/dpkg\" -W -f='\${Version}' iproute2 >'$WORK/version'" \
  --customize-hook='rm -rf "$1/var/lib/apt/lists/"* "$1/var/cache/apt/"*' \
  bookworm "$WORK/rootfs.tar" >"$WORK/mmdebstrap.log" 2>&1 \
  || { tail -n 20 "$WORK/mmdebstrap.log" >&2; die "mmdebstrap failed (log above); check that Debian's package mirror is reachable."; }
VERSION="$(cat "$WORK/version")"
docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL zkchaos.image-kind=netem zkchaos.iproute2-version=$VERSION zkchaos.debian-suite=bookworm" \
  --change 'CMD ["tc", "qdisc", "show"]' \
  "$WORK/rootfs.tar" "$TAG" >/dev/null
echo "built $TAG in $(( $(date +%s) - started )) s, $(( $(docker image inspect -f '{{.Size}}' "$TAG") / 1000000 )) MB: iproute2 $VERSION"
