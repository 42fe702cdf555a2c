#!/usr/bin/env bash
# Test hosts for multi-engine zkchaos tests: each host is a Linux network namespace with its own
# IPv4 address, joined to the root namespace by one bridge, and running its own Docker Engine
# (its own containerd + dockerd, started inside the namespace with nsenter). A container started
# with `--network host` in engine i therefore lives in host i's namespace and listens on host i's
# address, reachable from the root namespace and from the other hosts.
#
# Usage (as root):
#   scripts/test-hosts.sh up N              create hosts 1..N (idempotent: hosts already up stay,
#                                           hosts numbered above N are left as they are)
#   scripts/test-hosts.sh down              stop every engine, remove every namespace, bridge, veth,
#                                           mount, cgroup, firewall rule and directory this script
#                                           made; succeeds when nothing is there
#   scripts/test-hosts.sh status            one line per host: address, socket, engine state
#   scripts/test-hosts.sh load-image IMG..  copy local images (from the default engine) into every
#                                           host's engine; skips engines that have the same image ID
#   scripts/test-hosts.sh env               machine-readable lines for tests (format below)
#   scripts/test-hosts.sh engine I kill|stall|resume|start
#                                           fault the ENGINE of host I (never the machine's own):
#                                           kill = SIGKILL its dockerd (the socket stops answering,
#                                           containers keep running under containerd), stall =
#                                           SIGSTOP it (API calls hang), resume = SIGCONT, start =
#                                           start dockerd again and wait until it answers
#   scripts/test-hosts.sh check [IMG]       run one ZooKeeper ensemble across all hosts (server i in
#                                           engine i, --network host, on host i's address) and check
#                                           that `srvr` on every address shows a Mode from the root
#                                           namespace and from host 1's namespace (IMG defaults to
#                                           zkchaos/zookeeper:3.8.0, which must be loaded); removes
#                                           its containers afterwards
#
# `env` prints, for every host whose engine answers, in host order, one line:
#   ZKCHAOS_TEST_HOST_<i>=unix:///run/zkchaos-th<i>/docker.sock <address>
# e.g.
#   ZKCHAOS_TEST_HOST_1=unix:///run/zkchaos-th1/docker.sock 10.231.77.11
# i.e. KEY=VALUE, the value being a Docker host URL (usable as DOCKER_HOST or with bollard's
# Docker::connect_with_unix), one space, and the host's IPv4 address. Nothing else is printed on
# stdout; no hosts means no lines (exit 0). If a host exists but its engine does not answer, `env`
# says so on stderr and exits 1. To export them in bash:
#   while IFS= read -r l; do export "$l"; done < <(scripts/test-hosts.sh env)
#
# Names (everything this script creates is named so, and `down` touches nothing else):
#   network namespace   zkchaos-th<i>                (/run/netns/zkchaos-th<i>)
#   bridge (root ns)    zkchaos-thbr0                <NET>.1/24
#   veth pair           zkth<i>a (root ns, on the bridge) / zkth<i>b (in the namespace, <NET>.(10+i)/24)
#   engine state        /var/lib/zkchaos-test-hosts/th<i>/  (data-root, containerd root, logs, configs)
#   engine run dir      /run/zkchaos-th<i>/  (exec-root, docker.sock, pidfiles, containerd socket)
#   container cgroups   /sys/fs/cgroup/<controller>/zkchaos-th<i>/
#   firewall            one FORWARD rule `-i zkchaos-thbr0 -o zkchaos-thbr0 ... -j ACCEPT` with the
#                       comment zkchaos-test-hosts, so traffic between hosts crosses the bridge even
#                       when br_netfilter sends bridged packets through a FORWARD chain whose policy
#                       is DROP (Docker sets that)
# Besides these, while containers run, containerd's shims put their sockets in /run/containerd/s/
# (a path hard-coded in containerd, shared with the host's engine); `down` removes that directory
# only if it is empty.
#
# Environment: ZKCHAOS_TH_NET (default 10.231.77: the /24 used; it must not be routed on the
# machine already; `up` records it and every later command uses the recorded one until `down`), ZKCHAOS_TH_WAIT (seconds to wait for an engine, default 60),
# ZKCHAOS_TH_STORAGE_DRIVER (dockerd --storage-driver; default: dockerd's own choice).
#
# Each dockerd gets its own containerd (not dockerd's "managed" one), because dockerd would use a
# system containerd at /run/containerd/containerd.sock if one ran, and that containerd (and so every
# container) would live in the root network namespace.
set -Eeuo pipefail

NET=${ZKCHAOS_TH_NET:-10.231.77}
WAIT=${ZKCHAOS_TH_WAIT:-60}
STORAGE_DRIVER=${ZKCHAOS_TH_STORAGE_DRIVER:-}
BR=zkchaos-thbr0
STATE=/var/lib/zkchaos-test-hosts
IPT_COMMENT=zkchaos-test-hosts
CHECK_NAME=zkchaos-th-check

# Hosts that are up keep the subnet they were made with (recorded in $STATE/net).
REQUESTED_NET=$NET
if [ -s "$STATE/net" ]; then NET=$(cat "$STATE/net"); fi

trap 'rc=$?; echo "test-hosts.sh: failed (exit $rc) at line $LINENO: $BASH_COMMAND" >&2' ERR

say() { echo "test-hosts: $*" >&2; }
die() { echo "test-hosts: $*" >&2; exit 1; }
# Run a command that changes the machine, tracing it so a CI log shows what was done.
run() { echo "+ [$(date +%T)] $*" >&2; "$@"; }

ns_of() { echo "zkchaos-th$1"; }
addr_of() { echo "$NET.$((10 + $1))"; }
rundir_of() { echo "/run/zkchaos-th$1"; }
dir_of() { echo "$STATE/th$1"; }
sock_of() { echo "/run/zkchaos-th$1/docker.sock"; }
ctd_sock_of() { echo "/run/zkchaos-th$1/ctd/ctd.sock"; }
dk() { local i=$1; shift; docker -H "unix://$(sock_of "$i")" "$@"; }
answers() { timeout 10 docker -H "unix://$(sock_of "$1")" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pidfile_pid() { [ -s "$1" ] && tr -dc 0-9 <"$1" || true; }

# Indices of every host of ours that has any trace on the machine (namespace, veth, directories).
existing_hosts() {
  {
    ip netns list 2>/dev/null | awk '{print $1}' | sed -n 's/^zkchaos-th\([0-9][0-9]*\)$/\1/p'
    ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed -n 's/^zkth\([0-9][0-9]*\)a\(@.*\)\{0,1\}$/\1/p'
    for d in /run/zkchaos-th[0-9]* "$STATE"/th[0-9]*; do
      if [ -e "$d" ]; then basename "$d" | sed -n 's/^\(zkchaos-\)\{0,1\}th\([0-9][0-9]*\)$/\2/p'; fi
    done
  } | sort -n -u
}

ip2int() { local IFS=.; set -- $1; echo $(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 )); }
# True when prefix $1 (a.b.c.d/len or a.b.c.d) overlaps our /24.
overlaps_ours() {
  local p=$1 a len
  a=${p%/*}; len=32; [ "$p" != "$a" ] && len=${p#*/}
  [[ $a =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || return 1
  local m=$((len < 24 ? len : 24))
  local mask=$(( m == 0 ? 0 : (0xffffffff << (32 - m)) & 0xffffffff ))
  [ $(( $(ip2int "$a") & mask )) -eq $(( $(ip2int "$NET.0") & mask )) ]
}

check_subnet() {
  [[ $NET =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "ZKCHAOS_TH_NET must be three octets like 10.231.77, not '$NET'."
  local line dst dev
  while read -r line; do
    set -- $line
    case $1 in local|broadcast|unicast|multicast|unreachable|blackhole|prohibit|throw|anycast|nat) shift ;; esac
    dst=$1
    [ "$dst" = default ] && continue
    dev=$(sed -n 's/.* dev \([^ ]*\).*/\1/p' <<<"$line")
    [ "$dev" = "$BR" ] && continue
    if overlaps_ours "$dst"; then
      die "the subnet $NET.0/24 is already routed on this machine ('$line'); set ZKCHAOS_TH_NET to a free /24 (e.g. ZKCHAOS_TH_NET=10.231.78) and retry."
    fi
  done < <(ip -4 route show table all)
  while read -r _ dev _ a _; do
    [ "$dev" = "$BR" ] && continue
    if overlaps_ours "${a%/*}"; then
      die "the address ${a} on $dev lies in $NET.0/24; set ZKCHAOS_TH_NET to a free /24 and retry."
    fi
  done < <(ip -4 -o addr show)
}

need_tools() {
  local t
  for t in ip nsenter setsid dockerd containerd docker timeout findmnt "$@"; do
    command -v "$t" >/dev/null 2>&1 || die "'$t' is not installed (needed by this script)."
  done
  [ "$(id -u)" = 0 ] || die "must run as root."
}

# The FORWARD rule that lets hosts reach each other over the bridge (see header).
IPT_RULE=(FORWARD -i "$BR" -o "$BR" -m comment --comment "$IPT_COMMENT" -j ACCEPT)

ensure_bridge() {
  if ! ip link show "$BR" >/dev/null 2>&1; then
    run ip link add "$BR" type bridge
  fi
  if ! ip -4 -o addr show dev "$BR" | grep -q " $NET.1/24 "; then
    run ip addr add "$NET.1/24" dev "$BR"
  fi
  run ip link set "$BR" up
  if command -v iptables >/dev/null 2>&1 && ! iptables -C "${IPT_RULE[@]}" 2>/dev/null; then
    run iptables -I "${IPT_RULE[@]:0:1}" 1 "${IPT_RULE[@]:1}"
  fi
}

ensure_net() {
  local i=$1 ns a b addr
  ns=$(ns_of "$i"); a="zkth${i}a"; b="zkth${i}b"; addr=$(addr_of "$i")
  [ -e "/run/netns/$ns" ] || run ip netns add "$ns"
  run ip -n "$ns" link set lo up
  if ! ip -n "$ns" link show "$b" >/dev/null 2>&1; then
    if ip link show "$a" >/dev/null 2>&1; then run ip link del "$a"; fi
    run ip link add "$a" type veth peer name "$b" netns "$ns"
  fi
  run ip link set "$a" master "$BR" up
  if ! ip -n "$ns" -4 -o addr show dev "$b" | grep -q " $addr/24 "; then
    run ip -n "$ns" addr add "$addr/24" dev "$b"
  fi
  run ip -n "$ns" link set "$b" up
}

write_configs() {
  local i=$1 d r
  d=$(dir_of "$i"); r=$(rundir_of "$i")
  mkdir -p "$d/data" "$d/containerd" "$r/ctd"
  echo '{}' >"$d/daemon.json"
  cat >"$d/containerd.toml" <<EOF
version = 2
root = "$d/containerd"
state = "$r/ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$(ctd_sock_of "$i")"
[ttrpc]
  address = "$r/ctd/ctd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/containerd/opt"
EOF
}

# Start containerd and dockerd for host i inside its namespace unless they already run.
start_engine() {
  local i=$1 ns d r pid t
  ns=$(ns_of "$i"); d=$(dir_of "$i"); r=$(rundir_of "$i")
  if answers "$i"; then say "host $i: engine already answers"; return 0; fi
  pid=$(pidfile_pid "$r/docker.pid")
  if pid_alive "$pid"; then say "host $i: dockerd (pid $pid) is running, waiting for it"; return 0; fi
  write_configs "$i"
  pid=$(pidfile_pid "$r/containerd.pid")
  if ! pid_alive "$pid"; then
    echo "+ [$(date +%T)] setsid nsenter --net=/run/netns/$ns containerd --config $d/containerd.toml >>$d/containerd.log 2>&1 &" >&2
    setsid nsenter --net="/run/netns/$ns" containerd --config "$d/containerd.toml" \
      >>"$d/containerd.log" 2>&1 </dev/null &
    echo $! >"$r/containerd.pid"
  fi
  for ((t = 0; t < WAIT * 5; t++)); do
    [ -S "$(ctd_sock_of "$i")" ] && break
    pid_alive "$(pidfile_pid "$r/containerd.pid")" || break
    sleep 0.2
  done
  if [ ! -S "$(ctd_sock_of "$i")" ]; then
    tail -n 20 "$d/containerd.log" >&2 || true
    die "host $i: containerd did not create $(ctd_sock_of "$i") (log above, full log $d/containerd.log)."
  fi
  local args=(dockerd --config-file "$d/daemon.json" --data-root "$d/data" --exec-root "$r"
    -H "unix://$(sock_of "$i")" --pidfile "$r/docker.pid" --containerd "$(ctd_sock_of "$i")"
    --containerd-namespace "$ns" --containerd-plugins-namespace "$ns-plugins"
    --cgroup-parent "/$ns" --bridge=none --iptables=false --ip6tables=false
    --ip-forward=false --ip-masq=false)
  [ -n "$STORAGE_DRIVER" ] && args+=(--storage-driver "$STORAGE_DRIVER")
  echo "+ [$(date +%T)] setsid nsenter --net=/run/netns/$ns ${args[*]} >>$d/dockerd.log 2>&1 &" >&2
  setsid nsenter --net="/run/netns/$ns" "${args[@]}" >>"$d/dockerd.log" 2>&1 </dev/null &
}

wait_engine() {
  local i=$1 t d
  d=$(dir_of "$i")
  for ((t = 0; t < WAIT * 2; t++)); do
    if answers "$i"; then say "host $i: engine answers (after ~$((t / 2))s of waiting)"; return 0; fi
    sleep 0.5
  done
  echo "----- last lines of $d/dockerd.log -----" >&2
  tail -n 30 "$d/dockerd.log" >&2 || true
  die "host $i: dockerd did not answer on $(sock_of "$i") within ${WAIT}s (log above)."
}

cmd_up() {
  local n=${1:-}
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 200 ] || die "usage: $0 up N (1 <= N <= 200)"
  need_tools
  [ "$NET" = "$REQUESTED_NET" ] ||
    die "the hosts that are up use $NET.0/24, not $REQUESTED_NET.0/24; run '$0 down' first."
  check_subnet
  mkdir -p "$STATE"
  echo "$NET" >"$STATE/net"
  # `ip netns add` creates /run/netns (a shared bind mount of itself); remember whether we did.
  if [ ! -e /run/netns ] && [ -z "$(existing_hosts)" ]; then touch "$STATE/created-run-netns"; fi
  ensure_bridge
  local i
  for ((i = 1; i <= n; i++)); do ensure_net "$i"; done
  for ((i = 1; i <= n; i++)); do start_engine "$i"; done
  for ((i = 1; i <= n; i++)); do wait_engine "$i"; done
  cmd_status
}

cmd_status() {
  local i ns pid state hosts
  hosts=$(existing_hosts)
  if [ -z "$hosts" ]; then echo "no test hosts"; return 0; fi
  printf '%-4s %-14s %-15s %-34s %s\n' host namespace address socket engine
  for i in $hosts; do
    ns=$(ns_of "$i")
    [ -e "/run/netns/$ns" ] || ns="($ns missing)"
    pid=$(pidfile_pid "$(rundir_of "$i")/docker.pid")
    if answers "$i"; then
      state="answers: $(dk "$i" info --format 'v{{.ServerVersion}} {{.Driver}} {{.Images}} images {{.ContainersRunning}}/{{.Containers}} containers running' 2>/dev/null) (dockerd pid $pid)"
    elif pid_alive "$pid"; then
      state="dockerd pid $pid running but not answering"
    else
      state="not running"
    fi
    printf '%-4s %-14s %-15s %-34s %s\n' "$i" "$ns" "$(addr_of "$i")" "unix://$(sock_of "$i")" "$state"
  done
}

cmd_env() {
  local i bad=0
  for i in $(existing_hosts); do
    if answers "$i"; then
      echo "ZKCHAOS_TEST_HOST_$i=unix://$(sock_of "$i") $(addr_of "$i")"
    else
      say "host $i exists but its engine does not answer on $(sock_of "$i"); run '$0 up N' or '$0 down'."
      bad=1
    fi
  done
  return $bad
}

cmd_load_image() {
  [ $# -ge 1 ] || die "usage: $0 load-image IMAGE [IMAGE...]"
  local hosts img id i tmp todo pids p fail=0
  hosts=$(existing_hosts)
  [ -n "$hosts" ] || die "no test hosts; run '$0 up N' first."
  for i in $hosts; do answers "$i" || die "host $i: engine does not answer; run '$0 up N'."; done
  for img in "$@"; do
    id=$(docker image inspect --format '{{.Id}}' "$img" 2>/dev/null) ||
      die "image $img is not in the local engine (build it first, e.g. scripts/setup.sh)."
    todo=""
    for i in $hosts; do
      if [ "$(dk "$i" image inspect --format '{{.Id}}' "$img" 2>/dev/null || true)" = "$id" ]; then
        say "host $i already has $img ($id)"
      else
        todo+=" $i"
      fi
    done
    [ -n "$todo" ] || continue
    # Save once, then load into every engine that lacks it, all at once.
    tmp="$STATE/image.tar"
    run docker save "$img" -o "$tmp"
    pids=()
    for i in $todo; do
      echo "+ [$(date +%T)] docker -H unix://$(sock_of "$i") load -i $tmp &" >&2
      dk "$i" load -q -i "$tmp" >&2 &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || fail=1; done
    rm -f "$tmp"
    [ "$fail" = 0 ] || die "loading $img failed on at least one host (see above)."
    for i in $todo; do
      [ "$(dk "$i" image inspect --format '{{.Id}}' "$img" 2>/dev/null || true)" = "$id" ] ||
        die "host $i: $img has not the local image ID $id after loading."
    done
  done
}

cmd_check() {
  local img=${1:-zkchaos/zookeeper:3.8.0} i hosts addr reply first="" t ok cfg n
  hosts=$(existing_hosts)
  [ -n "$hosts" ] || die "no test hosts; run '$0 up N' first."
  # One ZooKeeper ensemble across all hosts (standalone if there is one host): server i listens on
  # host i's address, so the quorum traffic (2888/3888) crosses the bridge between namespaces.
  n=$(wc -w <<<"$hosts")
  cfg="tickTime=2000
initLimit=10
syncLimit=5
dataDir=/tmp/zk
clientPort=2181
4lw.commands.whitelist=*
admin.enableServer=false"
  if [ "$n" -gt 1 ]; then
    for i in $hosts; do cfg+=$'\n'"server.$i=$(addr_of "$i"):2888:3888"; done
  fi
  for i in $hosts; do
    dk "$i" image inspect "$img" >/dev/null 2>&1 || die "host $i has no image $img; run '$0 load-image $img'."
    dk "$i" rm -f "$CHECK_NAME" >/dev/null 2>&1 || true
    echo "+ docker -H unix://$(sock_of "$i") run -d --name $CHECK_NAME --network host ... (server $i)" >&2
    dk "$i" run -d --name "$CHECK_NAME" --network host -e MYID="$i" -e ZKCFG="$cfg" \
      --entrypoint sh "$img" -c 'mkdir -p /tmp/zk && echo "$MYID" >/tmp/zk/myid &&
        printf "%s\n" "$ZKCFG" >/tmp/zoo.cfg && exec /usr/local/bin/zkServer.sh start-foreground /tmp/zoo.cfg' >/dev/null
  done
  ok=1
  for i in $hosts; do
    addr=$(addr_of "$i"); reply=""
    for ((t = 0; t < 120; t++)); do
      reply=$(timeout 3 bash -c "exec 3<>/dev/tcp/$addr/2181 && echo srvr >&3 && cat <&3" 2>/dev/null | grep '^Mode:' || true)
      [ -n "$reply" ] && break
      sleep 0.5
    done
    if [ -n "$reply" ]; then
      echo "host $i: root namespace -> $addr:2181 srvr: $reply"
    else
      echo "host $i: root namespace -> $addr:2181: no 'Mode:' line in srvr after 60s"; ok=0
      dk "$i" logs --tail 20 "$CHECK_NAME" >&2 || true
    fi
    if [ -z "$first" ]; then first=$i; continue; fi
    reply=$(timeout 3 nsenter --net="/run/netns/$(ns_of "$first")" \
      bash -c "exec 3<>/dev/tcp/$addr/2181 && echo srvr >&3 && cat <&3" 2>/dev/null | grep '^Mode:' || true)
    if [ -n "$reply" ]; then
      echo "host $i: host $first's namespace -> $addr:2181 srvr: $reply"
    else
      echo "host $i: host $first's namespace -> $addr:2181: no answer"; ok=0
    fi
  done
  for i in $hosts; do run dk "$i" rm -f "$CHECK_NAME" >/dev/null || true; done
  [ "$ok" = 1 ] || die "check failed."
  echo "check passed"
}

# Pids of every process inside host i's network namespace (containers, shims, engines).
ns_pids() { local ns; ns=$(ns_of "$1"); [ -e "/run/netns/$ns" ] && ip netns pids "$ns" 2>/dev/null || true; }

# Pids in any cgroup under /<name> (every v1 controller and the v2 hierarchy).
cgroup_pids() {
  local d
  for d in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
    if [ -d "$d" ]; then find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null || true; fi
  done | sort -n -u
}

# TERM a pid, wait up to $2 seconds, then KILL.
stop_pid() {
  local pid=$1 what=$2 secs=$3 t
  pid_alive "$pid" || return 0
  run kill -TERM "$pid" || true
  kill -CONT "$pid" 2>/dev/null || true # a stalled (SIGSTOPped) engine must see the TERM
  for ((t = 0; t < secs * 5; t++)); do pid_alive "$pid" || return 0; sleep 0.2; done
  say "$what (pid $pid) did not stop in ${secs}s"
  run kill -KILL "$pid" || true
  for ((t = 0; t < 25; t++)); do pid_alive "$pid" || return 0; sleep 0.2; done
}

# Unmount everything mounted at or under $1, deepest first.
umount_under() {
  local base=$1 m
  for m in $({ findmnt -rn -o TARGET | grep -E "^${base}(/|$)" || true; } | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-); do
    run umount "$m" || run umount -l "$m" || true
  done
}

remove_host() {
  local i=$1 ns r d pid ids p
  ns=$(ns_of "$i"); r=$(rundir_of "$i"); d=$(dir_of "$i")
  say "removing host $i"
  if [ -S "$(sock_of "$i")" ] && answers "$i"; then
    ids=$(dk "$i" ps -aq 2>/dev/null || true)
    if [ -n "$ids" ]; then run docker -H "unix://$(sock_of "$i")" rm -f $ids >/dev/null || true; fi
  fi
  stop_pid "$(pidfile_pid "$r/docker.pid")" "dockerd of host $i" 20
  stop_pid "$(pidfile_pid "$r/containerd.pid")" "containerd of host $i" 10
  # Whatever still runs inside the namespace is ours (shims, container processes, an engine
  # whose pidfile was lost): TERM, then KILL.
  for p in $(ns_pids "$i"); do stop_pid "$p" "process $(cat "/proc/$p/comm" 2>/dev/null || echo '?') in $ns" 5; done
  # Container processes live in the cgroups under /$ns (dockerd --cgroup-parent), even those in
  # a network namespace of their own; thaw paused ones first, or they cannot die.
  local f
  for f in $(find /sys/fs/cgroup/freezer/"$ns" -name freezer.state 2>/dev/null || true); do
    if [ "$(cat "$f")" != THAWED ]; then echo "+ [$(date +%T)] echo THAWED > $f" >&2; echo THAWED >"$f" || true; fi
  done
  for p in $(cgroup_pids "$ns"); do stop_pid "$p" "process $(cat "/proc/$p/comm" 2>/dev/null || echo '?') in cgroup /$ns" 5; done
  umount_under "$r"
  umount_under "$d"
  if [ -e "/run/netns/$ns" ]; then run ip netns del "$ns"; fi
  # Deleting the namespace destroys the veth pair, asynchronously: give it a moment.
  for ((p = 0; p < 25; p++)); do ip link show "zkth${i}a" >/dev/null 2>&1 || break; sleep 0.2; done
  if ip link show "zkth${i}a" >/dev/null 2>&1; then run ip link del "zkth${i}a" || true; fi
  local cg
  for cg in /sys/fs/cgroup/*/"$ns" /sys/fs/cgroup/*/*/"$ns"; do
    [ -d "$cg" ] || continue
    echo "+ rmdir $cg (and its sub-cgroups)" >&2
    find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || say "could not remove cgroup $cg"
  done
  for p in "$r" "$d"; do
    [ -e "$p" ] || continue
    if findmnt -rn -o TARGET | grep -qE "^${p}(/|$)"; then
      say "not removing $p: still mounted:"; findmnt -rn -o TARGET | grep -E "^${p}(/|$)" >&2
      continue
    fi
    if [ "$p" = "$d" ]; then
      # The data-root holds every image layer (tens of seconds to delete): delete all hosts' in
      # parallel; cmd_down waits for them.
      echo "+ [$(date +%T)] rm -rf --one-file-system $p &" >&2
      rm -rf --one-file-system "$p" &
    else
      run rm -rf --one-file-system "$p"
    fi
  done
}

cmd_down() {
  need_tools
  local i
  for i in $(existing_hosts); do remove_host "$i"; done
  wait
  if ip link show "$BR" >/dev/null 2>&1; then run ip link del "$BR"; fi
  if command -v iptables >/dev/null 2>&1; then
    while iptables -C "${IPT_RULE[@]}" 2>/dev/null; do run iptables -D "${IPT_RULE[@]}"; done
  fi
  local netns_ours=0
  [ -e "$STATE/created-run-netns" ] && netns_ours=1
  if [ -e "$STATE" ]; then
    umount_under "$STATE"
    run rm -rf --one-file-system "$STATE"
  fi
  if [ "$netns_ours" = 1 ] && [ -d /run/netns ] && [ -z "$(ls -A /run/netns)" ]; then
    while findmnt -rn -o TARGET | grep -qx /run/netns; do run umount /run/netns || break; done
    run rmdir /run/netns || true
  fi
  # Shared directories that containerd creates on demand: remove them only when empty.
  local dd
  for dd in /run/containerd/s /run/containerd; do
    if [ -d "$dd" ] && [ -z "$(ls -A "$dd")" ]; then run rmdir "$dd" || true; fi
  done
  # Report anything of ours that is left, and fail if there is any.
  local left=""
  left+=$(ip netns list 2>/dev/null | grep -E '^zkchaos-th' || true)
  left+=$(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^(zkth[0-9]+a|zkchaos-thbr)' || true)
  left+=$(findmnt -rn -o TARGET | grep -E "^(/run/zkchaos-th|$STATE)" || true)
  left+=$(ls -d /run/zkchaos-th* "$STATE" 2>/dev/null || true)
  if [ -n "$left" ]; then
    say "left behind:"; echo "$left" >&2
    die "down did not remove everything."
  fi
  say "down: nothing of ours is left"
}

usage() { sed -n '2,/^set -E/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' || true; }

cmd_engine() {
  local i=${1:-} what=${2:-} pid r
  [[ $i =~ ^[0-9]+$ ]] || die "usage: $0 engine I kill|stall|resume|start"
  [ -e "/run/netns/$(ns_of "$i")" ] || die "host $i does not exist; run '$0 up N' first."
  r=$(rundir_of "$i"); pid=$(pidfile_pid "$r/docker.pid")
  case $what in
    kill)
      pid_alive "$pid" || { say "host $i: dockerd is not running"; return 0; }
      run kill -KILL "$pid"
      for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
      rm -f "$r/docker.pid" ;;
    stall) pid_alive "$pid" || die "host $i: dockerd is not running."; run kill -STOP "$pid" ;;
    resume) pid_alive "$pid" || die "host $i: dockerd is not running."; run kill -CONT "$pid" ;;
    start) need_tools; start_engine "$i"; wait_engine "$i" ;;
    *) die "usage: $0 engine I kill|stall|resume|start" ;;
  esac
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  engine) shift; cmd_engine "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  load-image) shift; cmd_load_image "$@" ;;
  check) shift; need_tools; cmd_check "$@" ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
