#!/bin/sh
# Start ZooKeeper in the foreground, the way the official image's `zkServer.sh start-foreground CFG`
# does, so zkchaos can drive both images with the same argument vector.
# JVMFLAGS carries heap size and system properties (e.g. the super digest); logs go to stderr.
# The jar names are the same in Debian's libzookeeper-java 3.8.0 (bookworm), 3.9.3 (trixie) and
# 3.9.6 (sid): unversioned symlinks in /usr/share/java, netty 4.1 as netty-all, slf4j 1.7.
set -eu
if [ "${1:-}" = "start-foreground" ]; then shift; fi
CFG="${1:-/zkchaos/conf/zoo.cfg}"
CP="$(dirname "$CFG"):/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar"
for jar in slf4j-api slf4j-simple netty-all commons-cli commons-io metrics-core \
           jackson-annotations jackson-core jackson-databind snappy-java log4j-1.2; do
  if [ -e "/usr/share/java/$jar.jar" ]; then CP="$CP:/usr/share/java/$jar.jar"
  else echo "zkServer.sh: /usr/share/java/$jar.jar is missing; left off the class path" >&2; fi
done
exec java ${JVMFLAGS:--Xmx256m} -Dorg.slf4j.simpleLogger.showDateTime=true \
  "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd HH:mm:ss.SSS" \
  -cp "$CP" org.apache.zookeeper.server.quorum.QuorumPeerMain "$CFG"
