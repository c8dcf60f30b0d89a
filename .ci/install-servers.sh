#!/usr/bin/env bash
# Installs the four FTP servers used by the interop suite (tests/interop/)
# side by side, the two proxies its proxy tests go through (microsocks:
# SOCKS5; tinyproxy: HTTP CONNECT), plus lftp and curl for benchmarks.
#
#   bash .ci/install-servers.sh          # as root; idempotent, fast when done
#
# Debian's FTP server packages conflict with one another (each "Provides:
# ftp-server"), so vsftpd, pure-ftpd and proftpd-core are not installed with
# apt: their .deb files are downloaded and unpacked with `dpkg -x` into
# .interop/root (gitignored); only their shared-library dependencies are
# installed normally. pyftpdlib comes from PyPI into the python3 on PATH.
# microsocks and tinyproxy are ordinary apt installs (the tests start their
# own instances on free ports; the packaged tinyproxy service is kept from
# starting by a temporary /usr/sbin/policy-rc.d).
#
# System changes (documented in docs/servers.md):
#   * a system user `ftpuser` (no login shell, home "/") whose password is
#     `p@ss:w/rd`: vsftpd authenticates local users through PAM only, and the
#     other servers' sessions run under its uid/gid so that file permissions
#     (a chmod 0555 directory) are enforced by the kernel as for a real user;
#   * /etc/pam.d/3700ftp-interop: a PAM service (pam_unix) used by vsftpd.
#
# Exits non-zero when any server cannot be installed: a failed install is a
# CI failure, not a skip.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$REPO/.interop/root"
FTP_USER=ftpuser
FTP_PASS='p@ss:w/rd'
PAM_SERVICE=3700ftp-interop
PACKAGES=(vsftpd pure-ftpd proftpd-core)
TOOLS=(lftp curl openssl microsocks tinyproxy)

log() { echo "install-servers: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    die "must run as root (it installs packages and creates the user $FTP_USER)"
fi

BINARIES=("$ROOT/usr/sbin/vsftpd" "$ROOT/usr/sbin/pure-ftpd" "$ROOT/usr/bin/pure-pw" "$ROOT/usr/sbin/proftpd")
# proftpd's mod_digest (HASH, XSHA256, ...) is a shared module in proftpd-core,
# loaded by the hash tests with LoadModule.
MODULES=("$ROOT/usr/lib/proftpd/mod_digest.so")

# Every binary and module present and with all its shared libraries resolvable.
binaries_ok() {
    local b
    for b in "${BINARIES[@]}"; do
        [ -x "$b" ] || return 1
        if ldd "$b" 2>/dev/null | grep -q 'not found'; then return 1; fi
    done
    for b in "${MODULES[@]}"; do
        [ -f "$b" ] || return 1
        if ldd "$b" 2>/dev/null | grep -q 'not found'; then return 1; fi
    done
}

tools_ok() {
    local t
    for t in "${TOOLS[@]}"; do command -v "$t" >/dev/null 2>&1 || return 1; done
}

pyftpdlib_ok() { python3 -c 'import pyftpdlib' >/dev/null 2>&1; }

user_ok() {
    id "$FTP_USER" >/dev/null 2>&1 || return 1
    # vsftpd chdirs to the passwd home before its local_root: it must exist.
    [ "$(getent passwd "$FTP_USER" | cut -d: -f6)" = / ] || return 1
    # The stored hash must match the expected password.
    local hash
    hash="$(getent shadow "$FTP_USER" | cut -d: -f2)"
    [ -n "$hash" ] || return 1
    # Recompute the hash with the stored salt ($6$SALT$...).
    case "$hash" in
        '$6$'*) ;;
        *) return 1 ;;
    esac
    local salt
    salt="$(echo "$hash" | cut -d'$' -f3)"
    [ "$(openssl passwd -6 -salt "$salt" "$FTP_PASS")" = "$hash" ]
}

pam_ok() { [ -f "/etc/pam.d/$PAM_SERVICE" ]; }

if binaries_ok && tools_ok && pyftpdlib_ok && user_ok && pam_ok; then
    log "already installed in $ROOT"
    exit 0
fi

APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        apt-get update -qq || die "apt-get update failed"
        APT_UPDATED=1
    fi
}

# ---- tools and shared libraries (normal apt installs) ----------------------
# Skipped when everything is in place (only the user or PAM file missing).
if ! binaries_ok || ! tools_ok; then
    apt_update_once
    for p in "${PACKAGES[@]}"; do
        apt-cache show "$p" >/dev/null 2>&1 || die "package $p not found by apt-cache"
    done
    # Library dependencies of the servers: safe to install (they conflict with
    # nothing); the servers themselves are not installed.
    mapfile -t LIBS < <(apt-cache depends "${PACKAGES[@]}" \
        | awk '$1 == "Depends:" || $1 == "PreDepends:" { print $2 }' \
        | grep -E '^lib' | sort -u)
    # Only what is missing: installing a present package would upgrade it.
    MISSING=()
    for p in "${TOOLS[@]}" "${LIBS[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            MISSING+=("$p")
        fi
    done
    if [ "${#MISSING[@]}" -gt 0 ]; then
        log "apt-get install ${MISSING[*]}"
        APT_LOG="$(mktemp)"
        # tinyproxy's postinst would start a system tinyproxy on port 8888:
        # "101 = action forbidden" keeps services from starting (only when no
        # policy-rc.d exists already; removed right after).
        POLICY=/usr/sbin/policy-rc.d
        OWN_POLICY=0
        if [ ! -e "$POLICY" ]; then
            printf '#!/bin/sh\nexit 101\n' >"$POLICY" && chmod 0755 "$POLICY" && OWN_POLICY=1
        fi
        APT_OK=1
        apt-get install -y -q --no-install-recommends "${MISSING[@]}" </dev/null >"$APT_LOG" 2>&1 || APT_OK=0
        if [ "$OWN_POLICY" -eq 1 ]; then rm -f "$POLICY"; fi
        if [ "$APT_OK" -eq 0 ]; then
            cat "$APT_LOG" >&2
            die "apt-get install of tools/libraries failed"
        fi
        rm -f "$APT_LOG"
    fi
    for t in "${TOOLS[@]}"; do
        command -v "$t" >/dev/null 2>&1 || die "$t not on PATH after apt-get install"
    done
fi

# ---- the servers, unpacked side by side ------------------------------------
if ! binaries_ok; then
    DL="$(mktemp -d)"
    trap 'rm -rf "$DL"' EXIT
    chmod 0777 "$DL" # apt-get download runs as _apt when it can
    (cd "$DL" && apt-get download -qq "${PACKAGES[@]}" </dev/null) \
        || die "apt-get download ${PACKAGES[*]} failed"
    mkdir -p "$ROOT"
    for deb in "$DL"/*.deb; do
        log "dpkg -x $(basename "$deb")"
        dpkg -x "$deb" "$ROOT" || die "dpkg -x $deb failed"
    done
    for b in "${BINARIES[@]}"; do
        [ -x "$b" ] || die "$b missing after unpacking"
        if ldd "$b" | grep 'not found'; then
            die "$b has unresolved shared libraries (see above)"
        fi
    done
    for b in "${MODULES[@]}"; do
        [ -f "$b" ] || die "$b missing after unpacking"
        if ldd "$b" | grep 'not found'; then
            die "$b has unresolved shared libraries (see above)"
        fi
    done
fi

# ---- pyftpdlib ---------------------------------------------------------------
if ! pyftpdlib_ok; then
    log "pip install pyftpdlib"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore pyftpdlib </dev/null \
        || python3 -m pip install -q --disable-pip-version-check --break-system-packages pyftpdlib </dev/null \
        || die "pip install pyftpdlib failed"
    pyftpdlib_ok || die "pyftpdlib not importable by $(command -v python3) after pip install"
fi

# ---- the test user and its PAM service ----------------------------------------
if ! id "$FTP_USER" >/dev/null 2>&1; then
    log "useradd $FTP_USER"
    useradd --system --no-create-home --home-dir / \
        --shell /usr/sbin/nologin --user-group "$FTP_USER" \
        || die "useradd $FTP_USER failed"
fi
if ! user_ok; then
    usermod --home / "$FTP_USER" || die "usermod --home / $FTP_USER failed"
    # usermod -p with a hash: chpasswd's "user:password" line format would be
    # ambiguous with a ':' in the password.
    usermod -p "$(openssl passwd -6 "$FTP_PASS")" "$FTP_USER" || die "setting the password of $FTP_USER failed"
    user_ok || die "password of $FTP_USER not set as expected"
fi
if ! pam_ok; then
    log "writing /etc/pam.d/$PAM_SERVICE"
    cat >"/etc/pam.d/$PAM_SERVICE" <<'EOF'
# PAM service for the 3700ftp interop suite (vsftpd's pam_service_name).
auth     required pam_unix.so
account  required pam_unix.so
session  required pam_permit.so
EOF
fi

binaries_ok && tools_ok && pyftpdlib_ok && user_ok && pam_ok || die "verification failed"
log "done: servers in $ROOT"
