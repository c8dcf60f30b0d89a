#!/usr/bin/env bash
# The slow-link benchmark: 3700ftp, curl and lftp side by side against vsftpd over an
# emulated 40 ms RTT, 90 Mbit/s link, and the same link with 1 % loss.
#
#   sudo bash benches/latency.sh            # ~12 min; results in target/bench/latency-*.md
#   LAT_REPS=1 LAT_ONLY=one_down,ls bash benches/latency.sh   # a quick look
#
# This kernel has no netem, so the link is made by hand, in a network namespace of
# its own (nothing outside it is touched):
# - its loopback gets MTU 1500 and a TBF qdisc (90 Mbit/s);
# - every packet is queued in raw PREROUTING (iptables-legacy NFQUEUE) to
#   benches/latency/nfq-delay.c, which holds it 20 ms (RTT/2) and, for the lossy
#   profile, drops 1 % at random. On lo both directions pass PREROUTING, so the RTT is
#   40 ms. PREROUTING and not OUTPUT: a packet held in OUTPUT still counts against the
#   sender's TCP Small Queues budget and a bulk copy crawls at ~2 Mbit/s. The holder runs
#   SCHED_FIFO (chrt -f 50), or scheduler jitter swamps the delay;
# - the namespace inherits BBR, which shrugs off 1 % loss: the lossy profile uses reno.
# vsftpd (from .interop/root, started by benches/bench.py's code) and the clients all run
# inside the namespace. The RTT is checked with `ping -U` (user-to-user: a plain ping's
# kernel receive timestamp is taken before PREROUTING and shows half the RTT).
# Environment: LAT_* and BENCH_BIN / BENCH_ALT_BIN, see benches/latency.py; LAT_OUT
# (target/bench) where the results go. Cleanup (namespace, holder, vsftpd) on exit or Ctrl-C.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
log() { echo "[latency $(date +%H:%M:%S)] $*" >&2; }

[ "$(id -u)" -eq 0 ] || { log "must run as root (network namespace, iptables, vsftpd)"; exit 1; }

RTT_MS=${LAT_RTT_MS:-40}
RATE=${LAT_RATE:-90mbit}
LOSS=${LAT_LOSS:-1}
QUEUE=7
OUT=${LAT_OUT:-$REPO/target/bench}
NS="ftplat$$"
mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%d-%H%M%S)
RESULTS="$OUT/latency-$STAMP.json"
REPORT="$OUT/latency-$STAMP.md"

NEED=()
command -v iptables-legacy >/dev/null 2>&1 || NEED+=(iptables)
[ -e /usr/include/libnetfilter_queue/libnetfilter_queue.h ] || NEED+=(libnetfilter-queue-dev)
command -v tcpdump >/dev/null 2>&1 || NEED+=(tcpdump)
command -v ping >/dev/null 2>&1 || NEED+=(iputils-ping)
[ -x /usr/bin/time ] || NEED+=(time)
command -v socat >/dev/null 2>&1 || NEED+=(socat)
command -v gcc >/dev/null 2>&1 || NEED+=(gcc libc6-dev)
if [ "${#NEED[@]}" -gt 0 ]; then
    log "apt-get install ${NEED[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${NEED[@]}" </dev/null >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${NEED[@]}" </dev/null >/dev/null; }
fi
bash .ci/install-servers.sh
if [ -z "${BENCH_BIN:-}" ]; then
    log "cargo build --release"
    cargo build --release --quiet
fi
HOLDER="$OUT/nfq-delay"
gcc -O2 -Wall -o "$HOLDER" benches/latency/nfq-delay.c -lnetfilter_queue -lnfnetlink

HOLDER_PID=""
stop_holder() {
    if [ -n "$HOLDER_PID" ]; then
        kill "$HOLDER_PID" 2>/dev/null || true
        wait "$HOLDER_PID" 2>/dev/null || true
        HOLDER_PID=""
    fi
}
cleanup() {
    stop_holder
    ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

in_ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS"
in_ns ip link set lo up
in_ns ip link set lo mtu 1500
in_ns tc qdisc add dev lo root tbf rate "$RATE" burst 64kb latency 100ms
in_ns iptables-legacy -t raw -A PREROUTING -j NFQUEUE --queue-num "$QUEUE"

# profile NAME LOSS_PERCENT CONGESTION_CONTROL
profile() {
    stop_holder
    in_ns sysctl -q -w net.ipv4.tcp_congestion_control="$3"
    # A simple command (not the in_ns function) so that $! is the holder itself: ip netns
    # exec and chrt exec into it.
    ip netns exec "$NS" chrt -f 50 "$HOLDER" "$QUEUE" $((RTT_MS * 1000 / 2)) "$2" &
    HOLDER_PID=$!
    sleep 0.3
    local ping
    ping=$(in_ns ping -U -q -c 10 -i 0.1 127.0.0.1 | sed -n 's|^rtt min/avg/max/mdev = \(.*\) ms$|\1|p')
    log "profile $1: loss $2 %, $3; ping -U min/avg/max/mdev $ping ms"
    [ "$1" = clean ] && PING="min/avg/max/mdev $ping ms"
    in_ns env LAT_RTT_MS="$RTT_MS" python3 benches/latency.py run "$1" "$RESULTS"
}

PING="?"
profile clean 0 "$(in_ns sysctl -n net.ipv4.tcp_congestion_control)"
profile lossy "$LOSS" reno
stop_holder
LAT_PING="$PING" python3 benches/latency.py report "$RESULTS" "$REPORT"
{
    echo
    echo "Command: \`$(for v in LAT_REPS LAT_LOSSY_REPS LAT_ONLY LAT_CLIENTS BENCH_BIN BENCH_ALT_BIN; do [ -n "${!v:-}" ] && printf '%s=%s ' "$v" "${!v}"; done)bash benches/latency.sh\`, $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)."
} >> "$REPORT"
log "results in $REPORT (and $RESULTS)"
