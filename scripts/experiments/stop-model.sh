#!/usr/bin/env bash
# Experiment behind docs/shrink-5to3.md ("host gone" against "process stopped"): five servers,
# each in the network namespace of a `sleep` container that holds its address; zk4 and zk5 are
# stopped (a leader among them last) and the time until zk1..zk3 elect is printed. `gone` stops
# the holders too (their addresses vanish, as zkchaos's `stop` does today); `refused` keeps them
# (connects to a stopped server are refused at once, as for a process stopped on a live host).
# Usage: scripts/experiments/stop-model.sh gone|refused   (needs zkchaos/zookeeper:3.8.0; publishes
# 127.0.0.1:2291-2295; everything it creates is labelled zkchaos.scratch=stop-model and removed)
set -u
IMG=zkchaos/zookeeper:3.8.0
L=zkchaos.scratch=stop-model
mode=${1:-}
case $mode in gone|refused) ;; *) echo "usage: $0 gone|refused" >&2; exit 2 ;; esac
cleanup() { docker rm -f $(docker ps -aq --filter label=$L) >/dev/null 2>&1; docker network rm zkx >/dev/null 2>&1; }
cleanup
trap cleanup EXIT
docker network create --label $L zkx >/dev/null
cfg='tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/zkchaos/data\n4lw.commands.whitelist=*\nadmin.enableServer=false\nclientPort=2181\nquorumListenOnAllIPs=true\nserver.1=zk1:2888:3888\nserver.2=zk2:2888:3888\nserver.3=zk3:2888:3888\nserver.4=zk4:2888:3888\nserver.5=zk5:2888:3888\n'
for i in 1 2 3 4 5; do
  docker run -d --label $L --name zkx-p$i --hostname zk$i --network zkx --network-alias zk$i -p 127.0.0.1:$((2290+i)):2181 --entrypoint sleep $IMG infinity >/dev/null
  docker create --label $L --name zkx-$i --init --network container:zkx-p$i \
    -e "JVMFLAGS=-Xmx256m -Xms64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.security.properties=/zkchaos/conf/java.security" \
    --entrypoint sh $IMG -c "mkdir -p /zkchaos/conf /zkchaos/data && printf '$cfg' > /zkchaos/conf/zoo.cfg && printf 'networkaddress.cache.negative.ttl=0\nnetworkaddress.cache.ttl=0\n' > /zkchaos/conf/java.security && echo $i > /zkchaos/data/myid && exec zkServer.sh start-foreground /zkchaos/conf/zoo.cfg" >/dev/null
done
docker start zkx-1 zkx-2 zkx-3 zkx-4 zkx-5 >/dev/null
mode_of() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$((2290+$1)); echo srvr >&3; cat <&3" 2>/dev/null | sed -n 's/^Mode: //p'; }
for t in $(seq 1 100); do
  n=0; for i in 1 2 3 4 5; do m=$(mode_of $i); [ -n "$m" ] && n=$((n+1)); done
  [ $n = 5 ] && break; sleep 0.3
done
leader=""; for i in 1 2 3 4 5; do [ "$(mode_of $i)" = leader ] && leader=$i; done
sleep 2
# Stop the two not among 1..3 (the leader is usually zk5), leader last, as the runbook does.
first=4; last=5; [ "$leader" = 4 ] && { first=5; last=4; }
stop_one() { docker stop -t 10 zkx-$1 >/dev/null; if [ $mode = gone ]; then docker kill zkx-p$1 >/dev/null; fi; }
stop_one $first; stop_one $last
t0=$(date +%s.%N)
while :; do
  for i in 1 2 3; do
    if [ "$(mode_of $i)" = leader ]; then
      t1=$(date +%s.%N); echo "$mode leader_before=zk$leader elected=zk$i after $(echo "$t1 - $t0" | bc) s"; cleanup; exit 0
    fi
  done
  now=$(date +%s.%N); if [ $(echo "$now - $t0 > 120" | bc) = 1 ]; then echo "$mode leader_before=zk$leader no leader within 120 s"; cleanup; exit 0; fi
  sleep 0.1
done
