#!/usr/bin/env bash
# Build a zkchaos ZooKeeper image without any container registry: Debian packages
# (libzookeeper-java + a headless OpenJDK) -> mmdebstrap root filesystem tarball -> `docker import`.
#
# Usage: docker/build-image.sh [--zookeeper VERSION | --suite SUITE] [--tag TAG] [--force] [TAG]
#
#   --zookeeper 3.8 | 3.8.0   Debian bookworm, openjdk-17-jre-headless -> zkchaos/zookeeper:3.8.0 (default)
#   --zookeeper 3.9.3         Debian trixie,   openjdk-21-jre-headless -> zkchaos/zookeeper:3.9.3
#   --zookeeper 3.9.6         Debian sid,      openjdk-21-jre-headless -> zkchaos/zookeeper:3.9.6
#   --suite bookworm|trixie|sid   the same three builds, named by Debian suite
#   --tag TAG, or a positional TAG   image tag (default zkchaos/zookeeper:<version>); a positional
#                             zkchaos/zookeeper:<one of the versions above> also selects that version
#   --force                   rebuild even when the tag exists (so does ZKCHAOS_REBUILD=1)
#
# Without arguments it builds zkchaos/zookeeper:3.8.0, as before. Idempotent: returns at once when
# the tag already exists. The labels zkchaos.zookeeper-version (upstream version),
# zkchaos.zookeeper-package-version (full Debian version) and zkchaos.debian-suite are read from
# the built root filesystem; the build fails when the suite no longer ships the expected version
# (unless --tag is given, then the image is labelled with what it really contains).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "zkchaos image build: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

ZK="" SUITE="" TAG="" POS_TAG="" FORCE="${ZKCHAOS_REBUILD:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --zookeeper|--zk) [ $# -ge 2 ] || die "$1 needs a version (3.8, 3.8.0, 3.9.3, 3.9.6)"; ZK="$2"; shift 2 ;;
    --zookeeper=*|--zk=*) ZK="${1#*=}"; shift ;;
    --suite) [ $# -ge 2 ] || die "--suite needs a Debian suite (bookworm, trixie, sid)"; SUITE="$2"; shift 2 ;;
    --suite=*) SUITE="${1#*=}"; shift ;;
    --tag) [ $# -ge 2 ] || die "--tag needs an image tag"; TAG="$2"; shift 2 ;;
    --tag=*) TAG="${1#*=}"; shift ;;
    --force|-f) FORCE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$POS_TAG" ] || die "more than one positional TAG ($POS_TAG, $1)"; POS_TAG="$1"; shift ;;
  esac
done
if [ -n "$POS_TAG" ]; then
  [ -z "$TAG" ] || die "give the tag either as --tag or positionally, not both"
  TAG="$POS_TAG"
  # `zkchaos image build --tag zkchaos/zookeeper:3.9.3` passes the tag positionally.
  if [ -z "$ZK" ] && [ -z "$SUITE" ]; then
    case "$TAG" in *:3.9.3) ZK=3.9.3 ;; *:3.9.6) ZK=3.9.6 ;; esac
  fi
fi
[ -n "$ZK" ] || [ -n "$SUITE" ] || SUITE="${ZKCHAOS_SUITE:-bookworm}"

# version <-> suite <-> JDK
case "$ZK" in
  "") ;;
  3.8|3.8.0) ZK=3.8.0 ;;
  3.9.3|3.9.6) ;;
  *) die "unsupported --zookeeper '$ZK'; choose 3.8 (3.8.0), 3.9.3 or 3.9.6" ;;
esac
case "$SUITE" in
  "") ;;
  bookworm|12|stable) SUITE=bookworm ;;
  trixie|13) SUITE=trixie ;;
  sid|unstable) SUITE=sid ;;
  *) die "unsupported --suite '$SUITE'; choose bookworm, trixie or sid" ;;
esac
case "$ZK" in
  3.8.0) want_suite=bookworm ;;
  3.9.3) want_suite=trixie ;;
  3.9.6) want_suite=sid ;;
  *) want_suite="$SUITE" ;;
esac
[ -z "$SUITE" ] || [ "$SUITE" = "$want_suite" ] \
  || die "ZooKeeper $ZK comes from Debian $want_suite, not $SUITE; give only one of --zookeeper / --suite"
SUITE="$want_suite"
case "$SUITE" in
  bookworm) ZK=3.8.0 JDK=openjdk-17-jre-headless ;;
  # trixie has no OpenJDK 17; sid gets 21 too so the two 3.9 images differ only in ZooKeeper.
  trixie) ZK=3.9.3 JDK=openjdk-21-jre-headless ;;
  sid) ZK=3.9.6 JDK=openjdk-21-jre-headless ;;
esac
# Some of libzookeeper-java's dependencies want default-jre-headless, which may be another JDK
# (sid: OpenJDK 25); `java` is pinned to $JDK below so the server runs on the JDK named here.
JDK_MAJOR="${JDK#openjdk-}"; JDK_MAJOR="${JDK_MAJOR%%-*}"
TAG_GIVEN="$TAG"
TAG="${TAG:-zkchaos/zookeeper:$ZK}"
PACKAGES="$JDK,libzookeeper-java,libslf4j-java,ca-certificates-java"
APTOPTS=()
# sid's Release file is valid for a week only: behind a mirror snapshot (or with a clock ahead of
# the mirror) apt calls it expired and refuses it. Signatures are still checked.
[ "$SUITE" != sid ] || APTOPTS+=(--aptopt='Acquire::Check-Valid-Until "false"')

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed; install Docker Engine (apt-get install docker.io) and retry."
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine (DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}); start it (e.g. 'service docker start') and retry."

if [ -z "$FORCE" ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "image $TAG already present ($(docker image inspect -f '{{.Id}}' "$TAG" | cut -c8-19)); nothing to do"
  exit 0
fi

command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is missing; install it with 'apt-get install -y mmdebstrap' (Debian package) and retry."
[ "$(id -u)" = 0 ] || die "building the root filesystem needs root (mmdebstrap root mode); run as root or with sudo."

WORK="$(mktemp -d /tmp/zkchaos-image.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
started=$(date +%s)
echo "building $TAG: ZooKeeper $ZK from Debian $SUITE packages with $JDK (this takes a minute or two)..."
# The info hook runs outside the chroot (root mode) and reads the new system's dpkg database.
# /usr/share/man is not excluded: the JRE's postinst needs its man directories.
mmdebstrap --variant=apt --mode=root "${APTOPTS[@]}" \
  --include="$PACKAGES" \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="copy-in $HERE/zkServer.sh /usr/local/bin" \
  --customize-hook='chmod 0755 "$1/usr/local/bin/zkServer.sh"' \
  --customize-hook='mkdir -p "$1/zkchaos/conf" "$1/zkchaos/data"' \
  --customize-hook="chroot \"\$1\" sh -c 'update-alternatives --set java /usr/lib/jvm/java-$JDK_MAJOR-openjdk-*/bin/java'" \
  --customize-hook="chroot \"\$1\" readlink -f /usr/bin/java >'$WORK/java-path'" \
  --customize-hook="dpkg-query --admindir=\"\$1/var/lib/dpkg\" -W -f='\${Version}' libzookeeper-java >'$WORK/zk-version'" \
  --customize-hook="dpkg-query --admindir=\"\$1/var/lib/dpkg\" -W -f='\${Package} \${Version}\n' '$JDK' >'$WORK/jdk-version'" \
  --customize-hook='rm -rf "$1/var/lib/apt/lists/"* "$1/var/cache/apt/"*' \
  "$SUITE" "$WORK/rootfs.tar" >"$WORK/mmdebstrap.log" 2>&1 \
  || { tail -n 20 "$WORK/mmdebstrap.log" >&2; die "mmdebstrap failed (log above); check that Debian's package mirror is reachable and that $SUITE still has $PACKAGES."; }

PKG_VERSION="$(cat "$WORK/zk-version" 2>/dev/null || true)"
[ -n "$PKG_VERSION" ] || die "could not read libzookeeper-java's version from the built root filesystem"
# Debian version -> upstream: drop the epoch, the Debian revision and repack suffixes (+dfsg, +ds, ~).
UPSTREAM="${PKG_VERSION#*:}"
UPSTREAM="${UPSTREAM%-*}"
UPSTREAM="${UPSTREAM%%[+~]*}"
if [ "$UPSTREAM" != "$ZK" ]; then
  [ -n "$TAG_GIVEN" ] || die "Debian $SUITE now ships ZooKeeper $UPSTREAM ($PKG_VERSION), not $ZK; not tagging it $TAG. Give --tag to build it anyway (it is labelled $UPSTREAM)."
  echo "note: Debian $SUITE ships ZooKeeper $UPSTREAM ($PKG_VERSION), not $ZK; $TAG is labelled $UPSTREAM" >&2
fi

docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL zkchaos.image-kind=debian zkchaos.zookeeper-version=$UPSTREAM zkchaos.zookeeper-package-version=$PKG_VERSION zkchaos.debian-suite=$SUITE" \
  --change 'WORKDIR /zkchaos' \
  --change 'CMD ["zkServer.sh", "start-foreground", "/zkchaos/conf/zoo.cfg"]' \
  "$WORK/rootfs.tar" "$TAG" >/dev/null

size=$(docker image inspect -f '{{.Size}}' "$TAG")
echo "built $TAG in $(( $(date +%s) - started )) s, $(( size / 1000000 )) MB: libzookeeper-java $PKG_VERSION, $(cat "$WORK/jdk-version") (java: $(cat "$WORK/java-path")), Debian $SUITE"
