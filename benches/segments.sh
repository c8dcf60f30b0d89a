#!/usr/bin/env bash
# Segmented download on loopback: `cp --segments N` against one stream (and lftp's
# `pget -n N` for reference) on one large file from a local vsftpd. Run as root after
# `bash benches/run.sh` has installed vsftpd and the ftpuser account (or
# `bash .ci/install-servers.sh`); builds nothing: pass the release binary.
#
#   bash benches/segments.sh [BIN] [SIZE_MIB] [N] [RUNS]
#   bash benches/segments.sh target/release/3700ftp 1024 4 3
#
# Prints one line per run and the medians. Loopback only; everything is removed on exit.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$REPO/target/release/3700ftp}")
SIZE_MIB=${2:-1024}
N=${3:-4}
RUNS=${4:-3}
VSFTPD=$REPO/.interop/root/usr/sbin/vsftpd
USER_NAME=ftpuser
PASS_ENC='p%40ss%3Aw%2Frd'
WORK=$(mktemp -d /tmp/3700ftp-segments-XXXXXX)
chmod 755 "$WORK"
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/home" "$WORK/empty" "$WORK/cli"
chown ftpuser: "$WORK/home"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$PORT
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_root=$WORK/home
chroot_local_user=YES
allow_writeable_chroot=YES
pam_service_name=3700ftp-interop
userlist_enable=NO
tcp_wrappers=NO
nopriv_user=nobody
secure_chroot_dir=$WORK/empty
seccomp_sandbox=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=27000
pasv_max_port=27199
max_clients=0
max_per_ip=0
xferlog_enable=NO
EOF
"$VSFTPD" "$WORK/vsftpd.conf" </dev/null >"$WORK/vsftpd.out" 2>&1 &
PID=$!
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$WORK/home/big.bin"
chown ftpuser: "$WORK/home/big.bin"
SUM=$(sha256sum <"$WORK/home/big.bin" | cut -d' ' -f1)
URL="ftp://$USER_NAME:$PASS_ENC@127.0.0.1:$PORT/big.bin"
export HOME=$WORK/cli
cd "$WORK/cli"

time_one() { # label, command...
    local label=$1
    shift
    rm -f "$WORK/cli/big.bin"
    sync
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }
    end=$(date +%s.%N)
    [ "$(sha256sum <"$WORK/cli/big.bin" | cut -d' ' -f1)" = "$SUM" ] || { echo "$label: WRONG BYTES"; exit 1; }
    echo "$end - $start" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A ALL
for run in $(seq "$RUNS"); do
    for label in one segments lftp; do
        case $label in
        one) t=$(time_one one "$BIN" cp "$URL" big.bin) ;;
        segments) t=$(time_one segments "$BIN" cp --segments "$N" "$URL" big.bin) ;;
        lftp) t=$(time_one lftp lftp -c "set ssl:verify-certificate no; set ftp:ssl-allow no; pget -n $N -O $WORK/cli '$URL'") ;;
        esac
        echo "run $run $label: $t s"
        ALL[$label]+="$t "
    done
done
for label in one segments lftp; do
    m=$(echo "${ALL[$label]}" | tr ' ' '\n' | grep . | median)
    echo "median $label ($SIZE_MIB MiB, N=$N): $m s ($(echo "$SIZE_MIB / $m" | bc) MiB/s)"
done
