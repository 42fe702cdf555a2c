#!/usr/bin/env bash
# Install zkchaos' prerequisites on a fresh Debian machine with Docker Engine and Rust:
# mmdebstrap (builds the images without a registry), the ZooKeeper image and the netem helper image.
# Idempotent: a second call takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! docker info >/dev/null 2>&1; then
  echo "setup: cannot reach the Docker engine (DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}); start it (e.g. 'service docker start') and retry." >&2
  exit 1
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: mmdebstrap is missing; install it with 'sudo apt-get install -y mmdebstrap' and retry." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq mmdebstrap >/dev/null
fi
bash docker/build-image.sh
bash docker/build-netem-image.sh
