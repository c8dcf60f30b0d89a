#!/usr/bin/env bash
# Benchmarks 3700ftp against curl and lftp on a local vsftpd (loopback only).
#
#   bash benches/run.sh                 # full run, ~10-15 min (as root)
#   BENCH_QUICK=1 bash benches/run.sh   # small sizes, one repetition, ~1 min
#
# Builds the release binary, installs what is missing (the servers, curl and
# lftp through .ci/install-servers.sh; GNU time and socat with apt-get), then
# runs benches/bench.py, which starts its own vsftpd, measures, prints a
# Markdown table and writes it to target/bench/. Every knob (sizes,
# repetitions, clients, the binary to measure) is an environment variable
# documented at the top of benches/bench.py and in docs/performance.md.
# vsftpd is stopped and the temporary files are removed on exit, failure or
# Ctrl-C (bench.py's finally block).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

log() { echo "[bench] $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    log "must run as root: vsftpd refuses to start otherwise"
    exit 1
fi

bash .ci/install-servers.sh
NEED=()
[ -x /usr/bin/time ] || NEED+=(time)
command -v socat >/dev/null 2>&1 || NEED+=(socat)
if [ "${#NEED[@]}" -gt 0 ]; then
    log "apt-get install ${NEED[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${NEED[@]}" </dev/null >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${NEED[@]}" </dev/null >/dev/null; }
fi

if [ -z "${BENCH_BIN:-}" ]; then
    log "cargo build --release"
    cargo build --release --quiet
fi

exec python3 "$REPO/benches/bench.py"
