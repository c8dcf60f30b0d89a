#!/usr/bin/env python3
"""Benchmarks 3700ftp against curl and lftp on a local vsftpd (loopback only).

Run through `bash benches/run.sh` (which builds the release binary first); see
docs/performance.md. Python standard library only. Must run as root: vsftpd
refuses to start otherwise, and its sessions run as the system user `ftpuser`
created by `.ci/install-servers.sh`.

What it measures, in one run, for 3700ftp, curl and lftp side by side:

1. download and upload of a big file (1 GiB) and a small one (16 MiB):
   throughput, and its ratio to a raw loopback TCP copy of the same bytes
   into a file (the fastest of: socat -b 1M on both ends; sendfile(2) into
   recv_into + write; sendfile(2) into splice(2));
2. the client's peak resident memory during those transfers (/usr/bin/time %M);
3. N small files (1000 x 4 KiB) uploaded, then downloaded, one session each way;
4. N one-shot directory listings (200 `ls` runs): total and per-run median;
5. N mkdir/rmdir pairs (500) in one session;
6. the control commands each client sends, counted from its verbose output;
7. mirror (BENCH_ONLY=mirror): a tree of 1000 files in 50 directories kept in
   sync both ways by `3700ftp mirror`, `lftp -e 'mirror'` (and `mirror -R`) and
   `rclone sync` (an `:ftp,...:` remote): the time to find an unchanged tree has
   nothing to do, and to carry over 10% changed files; the commands each sends,
   counted from the log of a second vsftpd started with log_ftp_protocol=YES.

Every timed measurement is repeated (BENCH_REPS, BENCH_BIG_REPS) and the
median is reported; the clients' order rotates from one repetition to the
next. Environment variables (all optional):

  BENCH_QUICK=1         small sizes, one repetition (~1 minute)
  BENCH_BIG_MB          big file size in MiB            (1024; quick: 128)
  BENCH_SMALL_MB        small file size in MiB          (16)
  BENCH_BIG_REPS        repetitions of big transfers    (3; quick: 1)
  BENCH_REPS            repetitions of everything else  (5; quick: 1)
  BENCH_FILES           number of small files           (1000; quick: 100)
  BENCH_FILE_KB         size of each small file in KiB  (4)
  BENCH_LS_RUNS         one-shot ls runs per repetition (200; quick: 20)
  BENCH_DIRS            mkdir/rmdir pairs               (500; quick: 50)
  BENCH_CLIENTS         comma list among 3700ftp,curl,lftp (all three); 3700ftp-jN
                        (e.g. 3700ftp-j4) runs the many-files step as one wildcard
                        put/get over N connections
  BENCH_ONLY            comma list among raw,transfer,many,ls,dirs,count,mirror (all)
  BENCH_MIRROR_FILES    files in the mirror tree        (1000; quick: 200)
  BENCH_MIRROR_DIRS     directories they are spread over (50; quick: 10)
  BENCH_MIRROR_CHANGED  percent of files changed        (10)
  BENCH_MIRROR_CLIENTS  comma list among 3700ftp,lftp,rclone (all three; rclone
                        only when installed: apt-get install rclone)
  BENCH_BIN             the 3700ftp binary to measure   (target/release/3700ftp;
                        run.sh skips `cargo build` when it is set)
  BENCH_REV             how to describe that binary in the report (git revision)
  BENCH_ALT_BIN         a second 3700ftp binary (a patched build), measured as the
                        extra client "3700ftp-alt"; the table gains "alt / ours"
  BENCH_ALT_REV         how to describe the alternative binary in the report
  BENCH_TMPDIR          where the temporary files go    ($TMPDIR or /tmp)
  BENCH_OUT             directory for results.md/.json  (target/bench)
"""

import datetime
import filecmp
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import pwd

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VSFTPD = os.path.join(REPO, ".interop/root/usr/sbin/vsftpd")
USER = "ftpuser"
PASSWORD_ENCODED = "p%40ss%3Aw%2Frd"  # p@ss:w/rd
PAM_SERVICE = "3700ftp-interop"
MiB = 1024 * 1024
MB = 1000 * 1000
RAW_BUFFER = 1024 * 1024  # socat -b: its 8 KiB default is itself a bottleneck


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def env_int(name, default, quick_default=None):
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    value = os.environ.get(name)
    if value not in (None, ""):
        return int(value)
    return quick_default if (quick and quick_default is not None) else default


class Config:
    def __init__(self):
        self.quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
        self.big_mb = env_int("BENCH_BIG_MB", 1024, 128)
        self.small_mb = env_int("BENCH_SMALL_MB", 16)
        self.big_reps = env_int("BENCH_BIG_REPS", 3, 1)
        self.reps = env_int("BENCH_REPS", 5, 1)
        self.files = env_int("BENCH_FILES", 1000, 100)
        self.file_kb = env_int("BENCH_FILE_KB", 4)
        self.ls_runs = env_int("BENCH_LS_RUNS", 200, 20)
        self.dirs = env_int("BENCH_DIRS", 500, 50)
        self.mirror_files = env_int("BENCH_MIRROR_FILES", 1000, 200)
        self.mirror_dirs = env_int("BENCH_MIRROR_DIRS", 50, 10)
        self.mirror_changed = env_int("BENCH_MIRROR_CHANGED", 10)
        self.mirror_clients = [
            c.strip()
            for c in os.environ.get("BENCH_MIRROR_CLIENTS", "3700ftp,lftp,rclone").split(",")
            if c.strip() and (c.strip() != "rclone" or shutil.which("rclone"))
        ]
        self.clients = [
            c.strip()
            for c in os.environ.get("BENCH_CLIENTS", "3700ftp,curl,lftp").split(",")
            if c.strip()
        ]
        for c in self.clients:
            if c not in ("3700ftp", "3700ftp-alt", "curl", "lftp") and not c.startswith("3700ftp-j"):
                sys.exit(f"BENCH_CLIENTS: unknown client {c!r}")
        # A second build of 3700ftp (a patched copy) measured side by side.
        self.alt_bin = os.environ.get("BENCH_ALT_BIN")
        if self.alt_bin:
            self.alt_bin = os.path.abspath(self.alt_bin)
            if "3700ftp-alt" not in self.clients:
                self.clients.insert(1, "3700ftp-alt")
        elif "3700ftp-alt" in self.clients:
            sys.exit("BENCH_CLIENTS: 3700ftp-alt needs BENCH_ALT_BIN")
        only = os.environ.get("BENCH_ONLY", "")
        self.only = {s.strip() for s in only.split(",") if s.strip()} or {
            "raw", "transfer", "many", "ls", "dirs", "count", "mirror"}
        self.bin = os.path.abspath(
            os.environ.get("BENCH_BIN") or os.path.join(REPO, "target/release/3700ftp"))
        self.tmpdir = os.environ.get("BENCH_TMPDIR") or tempfile.gettempdir()
        self.out = os.environ.get("BENCH_OUT") or os.path.join(REPO, "target/bench")


# ---------------------------------------------------------------------------
# processes


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """True when something listens on 127.0.0.1:port (from /proc/net/tcp, no connect)."""
    want = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def wait_listening(port, proc, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if listening(port):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening")
        time.sleep(0.005)
    raise RuntimeError(f"{what} not listening on 127.0.0.1:{port} after {timeout} s")


class Failure(Exception):
    pass


# ---------------------------------------------------------------------------
# raw copy endpoints (run as `python3 bench.py --raw-send|--raw-recv ...`)


def raw_send(port, src):
    """Sends a file with sendfile(2): zero-copy from the page cache."""
    with socket.create_connection(("127.0.0.1", port)) as sock, open(src, "rb") as f:
        sock.sendfile(f)


def raw_recv(port, dst, mode):
    """Accepts one connection and stores what arrives: `read` (recv_into + write,
    1 MiB buffer) or `splice` (socket -> pipe -> file, no copy to user space)."""
    import fcntl
    with socket.socket() as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", port))
        srv.listen(1)
        conn, _ = srv.accept()
        start = time.perf_counter()
        with conn, open(dst, "wb") as out:
            if mode == "splice":
                r, w = os.pipe()
                fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, RAW_BUFFER)
                while True:
                    n = os.splice(conn.fileno(), w, RAW_BUFFER)
                    if n == 0:
                        break
                    while n:
                        n -= os.splice(r, out.fileno(), n)
            else:
                buf = bytearray(RAW_BUFFER)
                view = memoryview(buf)
                while True:
                    n = conn.recv_into(buf)
                    if n == 0:
                        break
                    out.write(view[:n])
    # From the accepted connection to the file closed: Python's own startup excluded.
    print(f"{time.perf_counter() - start:.6f}", flush=True)


class Bench:
    def __init__(self, cfg):
        self.cfg = cfg
        self.children = []  # Popen objects to kill on the way out
        self.work = None
        self.results = {}
        self.counts = {}
        self.notes = []

    # -- environment ---------------------------------------------------------

    def setup(self):
        cfg = self.cfg
        if os.geteuid() != 0:
            sys.exit("bench: must run as root (vsftpd refuses otherwise)")
        missing = [p for p in (VSFTPD, cfg.bin, cfg.alt_bin or cfg.bin, "/usr/bin/time")
                   if not os.path.exists(p)]
        for tool in ("curl", "lftp", "socat"):
            if shutil.which(tool) is None:
                missing.append(tool)
        try:
            pw = pwd.getpwnam(USER)
        except KeyError:
            pw = None
            missing.append(f"user {USER}")
        if missing:
            sys.exit("bench: missing " + ", ".join(missing)
                     + " (run `bash benches/run.sh`, which installs them)")
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.work = tempfile.mkdtemp(prefix="3700ftp-bench-", dir=cfg.tmpdir)
        os.chmod(self.work, 0o755)
        log(f"work directory {self.work}")
        self.srv = os.path.join(self.work, "srv")
        self.home = os.path.join(self.srv, "home")
        self.cli = os.path.join(self.work, "cli")
        # HOME for the clients: no ~/.curlrc, ~/.lftprc or ~/.netrc of the caller.
        self.client_home = os.path.join(self.work, "client-home")
        for d in (self.srv, self.home, self.cli, self.client_home, os.path.join(self.srv, "empty")):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.srv, 0o755)
        self.give(self.home)
        self.env = dict(os.environ, HOME=self.client_home, LC_ALL="C")

    def give(self, path):
        os.chown(path, self.uid, self.gid)

    def server_dir(self, name, fresh=True):
        path = os.path.join(self.home, name)
        if fresh and os.path.exists(path):
            shutil.rmtree(path)
        os.makedirs(path, exist_ok=True)
        self.give(path)
        return path

    def start_vsftpd(self, protocol_log=None):
        """Starts vsftpd; with protocol_log, a second one that logs every command there
        (for counting only: the log costs time), returning its base URL."""
        port = free_port()
        low = 24000 + (os.getpid() % 20) * 200
        span = 200
        if protocol_log:
            low, span = 28000 + (os.getpid() % 20) * 100, 100
        conf = os.path.join(self.srv, "vsftpd-log.conf" if protocol_log else "vsftpd.conf")
        logging = (f"xferlog_enable=YES\nxferlog_std_format=NO\nlog_ftp_protocol=YES\n"
                   f"vsftpd_log_file={protocol_log}\n") if protocol_log else \
            "xferlog_enable=NO\nlog_ftp_protocol=NO\n"

        with open(conf, "w") as f:
            f.write(f"""\
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root={self.home}
chroot_local_user=YES
allow_writeable_chroot=YES
pam_service_name={PAM_SERVICE}
userlist_enable=NO
tcp_wrappers=NO
nopriv_user=nobody
secure_chroot_dir={os.path.join(self.srv, "empty")}
seccomp_sandbox=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port={low}
pasv_max_port={low + span - 1}
max_clients=0
max_per_ip=0
utf8_filesystem=YES
{logging}""")
        logf = open(os.path.join(self.srv, "vsftpd-log.out" if protocol_log else "vsftpd.out"), "w")
        proc = subprocess.Popen([VSFTPD, conf], stdin=subprocess.DEVNULL, stdout=logf,
                                stderr=logf, start_new_session=True)
        self.children.append(proc)
        wait_listening(port, proc, "vsftpd")
        base = f"ftp://{USER}:{PASSWORD_ENCODED}@127.0.0.1:{port}"
        log(f"vsftpd pid {proc.pid} on 127.0.0.1:{port}, passive {low}-{low + span - 1}"
            + (f", logging commands to {protocol_log}" if protocol_log else ""))
        if protocol_log:
            return port, base
        self.vsftpd = proc
        self.port = port
        self.base = base
        return port, base

    def cleanup(self):
        for proc in self.children:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self.work and os.path.isdir(self.work):
            shutil.rmtree(self.work, ignore_errors=True)
            log(f"removed {self.work}")

    # -- running clients -------------------------------------------------------

    def run(self, argv, cwd=None, stdin_path=None, rss=False, capture=False, check=True):
        """Runs one client invocation; returns (seconds, peak RSS KiB or None, output)."""
        rss_file = None
        if rss:
            rss_file = os.path.join(self.work, "rss.txt")
            argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        out = subprocess.PIPE if capture else subprocess.DEVNULL
        try:
            start = time.perf_counter()
            proc = subprocess.run(argv, cwd=cwd or self.cli, stdin=stdin, stdout=out,
                                  stderr=subprocess.STDOUT if capture else subprocess.PIPE,
                                  env=self.env)
            elapsed = time.perf_counter() - start
        finally:
            if stdin_path:
                stdin.close()
        output = (proc.stdout or b"").decode("utf-8", "replace")
        if check and proc.returncode != 0:
            err = output if capture else (proc.stderr or b"").decode("utf-8", "replace")
            raise Failure(f"exit {proc.returncode}: {' '.join(argv)[:300]}\n{err[-2000:]}")
        peak = None
        if rss_file:
            with open(rss_file) as f:
                peak = int(f.read().split()[-1])
        return elapsed, peak, output

    def lftp(self, script, verbose=False):
        pre = f"set ftp:ssl-allow no; open {self.base}; "
        return ["lftp"] + (["-d"] if verbose else []) + ["-c", pre + script]

    def ours(self, verbose=False, client="3700ftp"):
        binary = self.cfg.alt_bin if client == "3700ftp-alt" else self.cfg.bin
        # "3700ftp-jN" is the same binary moving many files over N connections.
        return [binary] + (["-v"] if verbose else [])

    def curl(self, verbose=False):
        return ["curl", "-q", "-sS"] + (["-v"] if verbose else [])

    def write_script(self, name, lines):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        return path

    def order(self, rep):
        """The clients, rotated by repetition so none is always first."""
        c = self.cfg.clients
        k = rep % len(c)
        return c[k:] + c[:k]

    def record(self, key, client, value):
        self.results.setdefault(key, {}).setdefault(client, []).append(value)

    # -- data ------------------------------------------------------------------

    def make_file(self, path, size):
        block = os.urandom(min(size, 16 * MiB))
        with open(path, "wb") as f:
            left = size
            while left > 0:
                n = min(left, len(block))
                f.write(block[:n])
                left -= n

    def prepare_data(self):
        cfg = self.cfg
        self.sizes = {"big": cfg.big_mb * MiB, "small": cfg.small_mb * MiB}
        for label, size in self.sizes.items():
            src = os.path.join(self.home, f"{label}.bin")
            log(f"creating {label} file ({size // MiB} MiB) on the server and locally")
            self.make_file(src, size)
            self.give(src)
            # The upload source is a separate copy (the same bytes).
            shutil.copyfile(src, os.path.join(self.cli, f"{label}.bin"))
        os.makedirs(os.path.join(self.cli, "dl"), exist_ok=True)
        self.server_dir("up")
        # Small files for the many-files test.
        many = os.path.join(self.cli, "many")
        os.makedirs(many, exist_ok=True)
        self.names = [f"f{i:05d}.bin" for i in range(cfg.files)]
        for name in self.names:
            with open(os.path.join(many, name), "wb") as f:
                f.write(os.urandom(cfg.file_kb * 1024))
        # A directory to list: 20 entries.
        lsdir = self.server_dir("lsdir")
        for i in range(20):
            p = os.path.join(lsdir, f"entry-{i:02d}.txt")
            with open(p, "w") as f:
                f.write("x" * (i * 10))
            self.give(p)
        os.sync()

    # -- 1, 2: raw copy and big/small transfers -------------------------------

    RAW_METHODS = ("socat", "sendfile+read", "sendfile+splice")

    def raw_copy(self, method, src, dst):
        """One raw loopback copy src -> TCP -> dst; seconds from sender start to receiver exit.

        socat: socat -u -b 1M on both ends (read/write). sendfile+read: the sender uses
        sendfile(2), the receiver recv_into + write with a 1 MiB buffer. sendfile+splice:
        the receiver splices socket -> pipe -> file. The best of them is the limit. socat
        is timed from its start (a few ms); the Python receivers time themselves from
        accept() to the file closed, so interpreter startup is not counted.
        """
        port = free_port()
        me = [sys.executable, os.path.abspath(__file__)]
        if method == "socat":
            target = "OPEN:/dev/null" if dst == "/dev/null" else f"OPEN:{dst},creat,trunc"
            recv_argv = ["socat", "-u", "-b", str(RAW_BUFFER),
                         f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr", target]
            send_argv = ["socat", "-u", "-b", str(RAW_BUFFER), f"OPEN:{src},rdonly",
                         f"TCP:127.0.0.1:{port}"]
        else:
            mode = "splice" if method.endswith("splice") else "read"
            recv_argv = me + ["--raw-recv", str(port), dst, mode]
            send_argv = me + ["--raw-send", str(port), src]
        recv = subprocess.Popen(recv_argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                start_new_session=True)
        self.children.append(recv)
        wait_listening(port, recv, f"{method} receiver")
        start = time.perf_counter()
        send = subprocess.run(send_argv, stdin=subprocess.DEVNULL)
        out = recv.stdout.read()
        rc = recv.wait()
        elapsed = time.perf_counter() - start
        self.children.remove(recv)
        if send.returncode or rc:
            raise Failure(f"raw copy ({method}) failed: sender {send.returncode}, receiver {rc}")
        if method != "socat":
            # The Python receiver times itself from accept(): interpreter startup excluded.
            elapsed = float(out.decode().split()[-1])
        return elapsed

    def bench_raw(self):
        """Raw copies of the same bytes; per repetition the best method is the limit."""
        for label, size in self.sizes.items():
            reps = self.cfg.big_reps if label == "big" else self.cfg.reps
            src = os.path.join(self.home, f"{label}.bin")
            dst = os.path.join(self.cli, "dl", "raw.bin")
            for rep in range(reps):
                shown = []
                for target in ("file", "null"):
                    best = 0.0
                    for method in self.RAW_METHODS:
                        if target == "null" and method == "sendfile+splice":
                            continue  # splice into /dev/null measures nothing useful
                        if os.path.exists(dst):
                            os.remove(dst)
                        os.sync()
                        secs = self.raw_copy(method, src, dst if target == "file" else "/dev/null")
                        if target == "file" and os.path.getsize(dst) != size:
                            raise Failure(f"raw copy ({method}): wrong size")
                        rate = size / secs / MB
                        self.record(f"raw_{target}_{label}", method, rate)
                        shown.append(f"{method}->{target} {rate:.0f}")
                        best = max(best, rate)
                    self.record(f"raw_{target}_{label}", "raw", best)
                log(f"raw copy {label} rep {rep + 1} (MB/s): " + ", ".join(shown))
            if os.path.exists(dst):
                os.remove(dst)

    def transfer_argv(self, client, direction, label, local, remote, verbose=False):
        url = self.base + remote
        if client.startswith("3700ftp"):
            if direction == "download":
                return self.ours(verbose, client) + ["cp", url, local]
            return self.ours(verbose, client) + ["cp", local, url]
        if client == "curl":
            if direction == "download":
                return self.curl(verbose) + ["-o", local, url]
            return self.curl(verbose) + ["-T", local, url]
        if direction == "download":
            return self.lftp(f"get {remote} -o {local}", verbose)
        return self.lftp(f"put {local} -o {remote}", verbose)

    def bench_transfers(self):
        for label in ("big", "small"):
            size = self.sizes[label]
            reps = self.cfg.big_reps if label == "big" else self.cfg.reps
            src_local = os.path.join(self.cli, f"{label}.bin")
            src_remote_disk = os.path.join(self.home, f"{label}.bin")
            for rep in range(reps):
                for client in self.order(rep):
                    for direction in ("download", "upload"):
                        if direction == "download":
                            local = os.path.join(self.cli, "dl", f"{label}.bin")
                            remote = f"/{label}.bin"
                            result, original = local, src_remote_disk
                        else:
                            local = src_local
                            remote = f"/up/{label}.bin"
                            result, original = os.path.join(self.home, "up", f"{label}.bin"), src_local
                        if os.path.exists(result):
                            os.remove(result)
                        os.sync()
                        argv = self.transfer_argv(client, direction, label, local, remote)
                        secs, peak, _ = self.run(argv, rss=True)
                        got = os.path.getsize(result) if os.path.exists(result) else -1
                        if got != size:
                            raise Failure(f"{client} {direction} {label}: {got} bytes, want {size}")
                        if rep == 0 and not filecmp.cmp(result, original, shallow=False):
                            raise Failure(f"{client} {direction} {label}: content differs")
                        os.remove(result)
                        self.record(f"{direction}_{label}", client, size / secs / MB)
                        self.record(f"rss_{direction}_{label}", client, peak)
                        log(f"{label} {direction} rep {rep + 1} {client}: "
                            f"{size / secs / MB:.0f} MB/s, peak RSS {peak / 1024:.1f} MiB")

    # -- 3: many small files ----------------------------------------------------

    def many_argv(self, client, direction, names, remote_dir, local_dir, verbose=False):
        """(argv, stdin script or None, cwd) for one session moving `names`."""
        if client.startswith("3700ftp-j"):
            # Multi-file form: one wildcard command spread over N connections (-j N).
            n = client[len("3700ftp-j"):]
            verb = "put" if direction == "upload" else "get"
            script = self.write_script(f"many-{direction}-j{n}.txt",
                                       [f"cd {remote_dir}", f"{verb} -j {n} f*.bin"])
            return self.ours(verbose, "3700ftp") + ["-q", self.base + "/"], script, local_dir
        if client.startswith("3700ftp"):
            verb = "put" if direction == "upload" else "get"
            script = self.write_script(f"many-{direction}.txt",
                                       [f"cd {remote_dir}"] + [f"{verb} {n}" for n in names])
            return self.ours(verbose, client) + [self.base + "/"], script, local_dir
        if client == "curl":
            if direction == "upload":
                return (self.curl(verbose) + ["-T", "{" + ",".join(names) + "}",
                                              f"{self.base}{remote_dir}/"], None, local_dir)
            argv = self.curl(verbose)
            for n in names:
                argv += ["-o", n, f"{self.base}{remote_dir}/{n}"]
            return argv, None, local_dir
        if direction == "upload":
            return self.lftp(f"cd {remote_dir}; lcd {local_dir}; mput f*.bin", verbose), None, local_dir
        return self.lftp(f"cd {remote_dir}; lcd {local_dir}; mget f*.bin", verbose), None, local_dir

    def bench_many(self):
        cfg = self.cfg
        src = os.path.join(self.cli, "many")
        dst = os.path.join(self.cli, "many-dl")
        for rep in range(cfg.reps):
            for client in self.order(rep):
                remote_dir = f"/many-{client}"
                disk = self.server_dir(remote_dir.lstrip("/"))
                if os.path.exists(dst):
                    shutil.rmtree(dst)
                os.makedirs(dst)
                os.sync()
                argv, script, cwd = self.many_argv(client, "upload", self.names, remote_dir, src)
                up, _, _ = self.run(argv, cwd=cwd, stdin_path=script)
                if len(os.listdir(disk)) != cfg.files:
                    raise Failure(f"{client}: {len(os.listdir(disk))} files uploaded, want {cfg.files}")
                os.sync()
                argv, script, cwd = self.many_argv(client, "download", self.names, remote_dir, dst)
                down, _, _ = self.run(argv, cwd=cwd, stdin_path=script)
                got = sorted(os.listdir(dst))
                if got != self.names:
                    raise Failure(f"{client}: {len(got)} files downloaded, want {cfg.files}")
                if rep == 0:
                    for n in self.names[:: max(1, cfg.files // 20)]:
                        if not filecmp.cmp(os.path.join(src, n), os.path.join(dst, n), shallow=False):
                            raise Failure(f"{client}: {n} differs after the round trip")
                self.record("many_upload", client, up)
                self.record("many_download", client, down)
                log(f"{cfg.files} files rep {rep + 1} {client}: upload {up:.2f} s "
                    f"({up / cfg.files * 1000:.2f} ms/file), download {down:.2f} s "
                    f"({down / cfg.files * 1000:.2f} ms/file)")

    # -- 4: one-shot ls ---------------------------------------------------------

    def ls_argv(self, client, verbose=False):
        if client.startswith("3700ftp"):
            return self.ours(verbose, client) + ["ls", self.base + "/lsdir/"]
        if client == "curl":
            return self.curl(verbose) + [self.base + "/lsdir/"]
        return self.lftp("ls /lsdir/", verbose)

    def bench_ls(self):
        cfg = self.cfg
        # One check that every client's listing names the entries.
        for client in cfg.clients:
            _, _, out = self.run(self.ls_argv(client), capture=True)
            if "entry-19.txt" not in out:
                raise Failure(f"{client} ls: listing lacks entry-19.txt:\n{out[:500]}")
        for rep in range(cfg.reps):
            for client in self.order(rep):
                argv = self.ls_argv(client)
                times = [self.run(argv)[0] for _ in range(cfg.ls_runs)]
                self.record("ls_total", client, sum(times))
                self.results.setdefault("ls_each", {}).setdefault(client, []).extend(times)
                log(f"{cfg.ls_runs} ls rep {rep + 1} {client}: total {sum(times):.2f} s, "
                    f"median {statistics.median(times) * 1000:.1f} ms")

    # -- 5: mkdir/rmdir pairs ------------------------------------------------------

    def dirs_argv(self, client, n, remote_dir, verbose=False):
        names = [f"d{i:04d}" for i in range(n)]
        if client.startswith("3700ftp"):
            lines = [f"cd {remote_dir}"]
            for d in names:
                lines += [f"mkdir {d}", f"rmdir {d}"]
            return self.ours(verbose, client) + [self.base + "/"], self.write_script("dirs.txt", lines)
        if client == "curl":
            argv = self.curl(verbose) + ["-I"]
            for d in names:
                argv += ["-Q", f"MKD {remote_dir}/{d}", "-Q", f"RMD {remote_dir}/{d}"]
            return argv + [f"{self.base}{remote_dir}/"], None
        lines = [f"set ftp:ssl-allow no", f"open {self.base}", f"cd {remote_dir}"]
        for d in names:
            lines += [f"mkdir {d}", f"rmdir {d}"]
        script = self.write_script("dirs.lftp", lines)
        return ["lftp"] + (["-d"] if verbose else []) + ["-f", script], None

    def bench_dirs(self):
        cfg = self.cfg
        for rep in range(cfg.reps):
            for client in self.order(rep):
                remote_dir = f"/dirs-{client}"
                disk = self.server_dir(remote_dir.lstrip("/"))
                argv, script = self.dirs_argv(client, cfg.dirs, remote_dir)
                secs, _, _ = self.run(argv, stdin_path=script)
                if os.listdir(disk):
                    raise Failure(f"{client}: directories left behind: {os.listdir(disk)[:5]}")
                self.record("dirs", client, secs)
                log(f"{cfg.dirs} mkdir/rmdir rep {rep + 1} {client}: {secs:.2f} s "
                    f"({secs / cfg.dirs * 1000:.2f} ms/pair)")

    # -- 6: control commands ---------------------------------------------------------

    @staticmethod
    def commands_in(client, output):
        prefix = "---> " if client == "lftp" else "> "
        return [line[len(prefix):] for line in output.splitlines() if line.startswith(prefix)]

    def count(self, client, argv, cwd=None, script=None):
        _, _, out = self.run(argv, cwd=cwd, stdin_path=script, capture=True)
        cmds = self.commands_in(client, out)
        if not cmds:
            raise Failure(f"{client}: no commands found in the verbose output of {argv[:4]}")
        return cmds

    def bench_counts(self):
        """Commands per operation; for sessions, from two sizes: fixed + per-item."""
        n1, n2 = 5, 10
        small = os.path.join(self.cli, "count")
        os.makedirs(small, exist_ok=True)
        names = [f"f{i:05d}.bin" for i in range(n2)]
        for n in names:
            shutil.copyfile(os.path.join(self.cli, "many", self.names[0]), os.path.join(small, n))
        one = os.path.join(small, names[0])
        for client in self.cfg.clients:
            c = self.counts.setdefault(client, {})
            self.server_dir("count")
            dl = os.path.join(self.cli, "count-dl")
            os.makedirs(dl, exist_ok=True)
            cmds = self.count(client, self.transfer_argv(client, "upload", "", one, f"/count/{names[0]}", True))
            c["upload_one"] = cmds
            target = os.path.join(dl, "x")
            if os.path.exists(target):
                os.remove(target)  # lftp refuses to overwrite (xfer:clobber off)
            cmds = self.count(client, self.transfer_argv(client, "download", "", target, f"/count/{names[0]}", True))
            c["download_one"] = cmds
            c["ls"] = self.count(client, self.ls_argv(client, True))
            for direction in ("upload", "download"):
                totals = {}
                for n in (n1, n2):
                    remote_dir = f"/count-many{n}"
                    if direction == "upload":
                        self.server_dir(remote_dir.lstrip("/"))
                        cwd = os.path.join(self.cli, f"count{n}")
                        if os.path.exists(cwd):
                            shutil.rmtree(cwd)
                        os.makedirs(cwd)
                        for name in names[:n]:
                            shutil.copyfile(one, os.path.join(cwd, name))
                    else:
                        cwd = os.path.join(self.cli, f"count-dl{n}")
                        if os.path.exists(cwd):
                            shutil.rmtree(cwd)
                        os.makedirs(cwd)
                    argv, script, cwd = self.many_argv(client, direction, names[:n], remote_dir, cwd, True)
                    cmds = self.count(client, argv, cwd=cwd, script=script)
                    totals[n] = cmds
                    c[f"many_{direction}_{n}"] = cmds
                per = (len(totals[n2]) - len(totals[n1])) / (n2 - n1)
                c[f"many_{direction}_per_file"] = per
                c[f"many_{direction}_fixed"] = len(totals[n1]) - per * n1
            totals = {}
            for n in (n1, n2):
                remote_dir = f"/count-dirs{n}"
                self.server_dir(remote_dir.lstrip("/"))
                argv, script = self.dirs_argv(client, n, remote_dir, True)
                totals[n] = self.count(client, argv, script=script)
                c[f"dirs_{n}"] = totals[n]
            per = (len(totals[n2]) - len(totals[n1])) / (n2 - n1)
            c["dirs_per_pair"] = per
            c["dirs_fixed"] = len(totals[n1]) - per * n1
            log(f"commands {client}: download {len(c['download_one'])}, upload {len(c['upload_one'])}, "
                f"ls {len(c['ls'])}, per file up {c['many_upload_per_file']:g} / down "
                f"{c['many_download_per_file']:g}, per mkdir+rmdir {c['dirs_per_pair']:g}")

    # -- 7: mirror ---------------------------------------------------------------------

    def mirror_tree(self, root):
        """BENCH_MIRROR_FILES files spread over BENCH_MIRROR_DIRS directories (a tenth at the
        top, the rest one level below them), BENCH_FILE_KB each."""
        cfg = self.cfg
        tops = max(1, cfg.mirror_dirs // 5)
        dirs = [f"t{i:02d}" for i in range(tops)]
        k = 0
        while len(dirs) < cfg.mirror_dirs:
            dirs.append(f"t{k % tops:02d}/s{k // tops:02d}")
            k += 1
        files = []
        for i in range(cfg.mirror_files):
            d = dirs[i % len(dirs)]
            files.append(f"{d}/f{i:05d}.bin")
        for d in dirs:
            os.makedirs(os.path.join(root, d), exist_ok=True)
        for rel in files:
            with open(os.path.join(root, rel), "wb") as f:
                f.write(os.urandom(cfg.file_kb * 1024))
        return files

    @staticmethod
    def tree_sizes(root):
        out = {}
        for dirpath, dirnames, filenames in os.walk(root):
            for n in dirnames:
                out[os.path.relpath(os.path.join(dirpath, n), root) + "/"] = None
            for n in filenames:
                p = os.path.join(dirpath, n)
                out[os.path.relpath(p, root)] = os.path.getsize(p)
        return out

    def mirror_changed_files(self):
        step = max(1, round(100 / max(1, self.cfg.mirror_changed)))
        return self.mirror_files[::step]

    def mutate(self, root):
        """Appends a byte to every changed file: another size, which every client notices."""
        for rel in self.mirror_changed_files():
            with open(os.path.join(root, rel), "ab") as f:
                f.write(b"x")
        for dirpath, dirnames, filenames in os.walk(root):
            for n in dirnames + filenames:
                os.chown(os.path.join(dirpath, n), self.uid, self.gid)

    def rclone_remote(self, base, path):
        port = base.rsplit(":", 1)[1]
        if not hasattr(self, "rclone_pass"):
            out = subprocess.run(["rclone", "obscure", "p@ss:w/rd"], capture_output=True,
                                 text=True, check=True, env=self.env)
            self.rclone_pass = out.stdout.strip()
        return f":ftp,host=127.0.0.1,port={port},user={USER},pass={self.rclone_pass}:{path}"

    def mirror_argv(self, client, direction, base, remote, local, verbose=False):
        """One sync of remote (a server path) and local, in `direction`, with deletes."""
        if client.startswith("3700ftp"):
            argv = [self.cfg.bin] + (["-v"] if verbose else []) + ["mirror", "--delete"]
            if client.startswith("3700ftp-j"):
                argv += ["-j", client[len("3700ftp-j"):]]
            if direction == "download":
                return argv + [f"{base}{remote}/", local]
            return argv + [local, f"{base}{remote}"]
        if client == "lftp":
            pre = f"set ftp:ssl-allow no; open {base}; "
            cmd = (f"mirror --delete {remote} {local}" if direction == "download"
                   else f"mirror -R --delete {local} {remote}")
            return ["lftp"] + (["-d"] if verbose else []) + ["-c", pre + cmd]
        argv = ["rclone", "--config", os.path.join(self.client_home, "rclone.conf"), "sync"]
        if verbose:
            argv += ["-vv", "--dump", "headers"]
        there = self.rclone_remote(base, remote)
        return argv + ([there, local] if direction == "download" else [local, there])

    def mirror_check(self, client, what, src, dst):
        a, b = self.tree_sizes(src), self.tree_sizes(dst)
        if a != b:
            diff = sorted(set(a.items()) ^ set(b.items()))[:5]
            raise Failure(f"{client} mirror {what}: trees differ, e.g. {diff}")

    def mirror_sides(self, client, direction, tag=""):
        """(source, destination, remote path, local path) of one client's mirror."""
        if direction == "download":
            local = os.path.join(self.cli, f"mirror-dl-{client}{tag}")
            return self.mirror_src_server, local, "/mirror-src", local
        remote = f"/mirror-up-{client}{tag}"
        return self.mirror_src_local, os.path.join(self.home, remote.lstrip("/")), remote, self.mirror_src_local

    def mirror_setup(self):
        if hasattr(self, "mirror_files"):
            return
        self.mirror_src_server = self.server_dir("mirror-src")
        self.mirror_files = self.mirror_tree(self.mirror_src_server)
        self.mirror_src_local = os.path.join(self.cli, "mirror-src")
        shutil.copytree(self.mirror_src_server, self.mirror_src_local)
        for dirpath, dirnames, filenames in os.walk(self.mirror_src_server):
            for n in dirnames + filenames:
                os.chown(os.path.join(dirpath, n), self.uid, self.gid)

    def mirror_fresh(self, client, direction, base, tag=""):
        """A destination made by the client's own first run (untimed)."""
        src, dst, remote, local = self.mirror_sides(client, direction, tag)
        if os.path.exists(dst):
            shutil.rmtree(dst)
        if direction == "upload":
            self.server_dir(remote.lstrip("/"))
        self.run(self.mirror_argv(client, direction, base, remote, local))
        self.mirror_check(client, f"{direction} (first run)", src, dst)

    def bench_mirror(self):
        cfg = self.cfg
        self.mirror_setup()
        for direction in ("download", "upload"):
            for client in cfg.mirror_clients:
                self.mirror_fresh(client, direction, self.base)
            for rep in range(cfg.reps):
                k = rep % len(cfg.mirror_clients)
                clients = cfg.mirror_clients[k:] + cfg.mirror_clients[:k]
                for client in clients:
                    src, dst, remote, local = self.mirror_sides(client, direction)
                    os.sync()
                    secs, _, _ = self.run(self.mirror_argv(client, direction, self.base, remote, local))
                    self.mirror_check(client, f"{direction} unchanged", src, dst)
                    self.record(f"mirror_{direction}_unchanged", client, secs)
                    log(f"mirror {direction} unchanged rep {rep + 1} {client}: {secs:.2f} s")
                self.mutate(self.mirror_src_server if direction == "download" else self.mirror_src_local)
                for client in clients:
                    src, dst, remote, local = self.mirror_sides(client, direction)
                    os.sync()
                    secs, _, _ = self.run(self.mirror_argv(client, direction, self.base, remote, local))
                    self.mirror_check(client, f"{direction} changed", src, dst)
                    self.record(f"mirror_{direction}_changed", client, secs)
                    log(f"mirror {direction} {cfg.mirror_changed}% changed rep {rep + 1} {client}: {secs:.2f} s")
        self.mirror_counts()

    def mirror_counts(self):
        """Commands each client sends for an unchanged and a changed run, from a vsftpd
        that logs every command (its own instance, so the timed runs pay no logging)."""
        cfg = self.cfg
        logfile = os.path.join(self.srv, "vsftpd-protocol.log")
        _, base = self.start_vsftpd(protocol_log=logfile)
        self.mirror_cmds = {}

        def commands_since(offset):
            with open(logfile, "rb") as f:
                f.seek(offset)
                text = f.read().decode("utf-8", "replace")
            cmds = re.findall(r'FTP command: Client "[^"]*", "([^"]*)"', text)
            return [c.split(" ", 1)[0].upper() for c in cmds]

        def size():
            return os.path.getsize(logfile) if os.path.exists(logfile) else 0

        for direction in ("download", "upload"):
            for client in cfg.mirror_clients:
                self.mirror_fresh(client, direction, base, "-count")
                src, dst, remote, local = self.mirror_sides(client, direction, "-count")
                for what in ("unchanged", "changed"):
                    if what == "changed":
                        self.mutate(src)
                    start = size()
                    self.run(self.mirror_argv(client, direction, base, remote, local))
                    self.mirror_check(client, f"{direction} {what} (counted)", src, dst)
                    cmds = commands_since(start)
                    self.mirror_cmds[(direction, what, client)] = cmds
                    log(f"mirror commands {direction} {what} {client}: {len(cmds)} "
                        f"({self.verb_summary(cmds)})")

    @staticmethod
    def verb_summary(cmds):
        counts = {}
        for c in cmds:
            counts[c] = counts.get(c, 0) + 1
        return ", ".join(f"{v} {n}" for v, n in sorted(counts.items(), key=lambda x: (-x[1], x[0])))

    def mirror_report(self, add):
        cfg = self.cfg
        clients = cfg.mirror_clients
        if not any(k.startswith("mirror_") for k in self.results):
            return
        add(f"Mirror: {cfg.mirror_files} files of {cfg.file_kb} KiB in {cfg.mirror_dirs} directories, "
            f"`--delete` (lftp `mirror --delete`, `rclone sync`); {cfg.mirror_changed}% of the files "
            f"changed (one byte appended) between runs. Medians of {cfg.reps} repetitions, seconds.")
        add("")
        add("| mirror | " + " | ".join(clients) + " | ours / best peer |")
        add("|" + "---|" * (len(clients) + 2))
        for direction in ("download", "upload"):
            for what, title in (("unchanged", "unchanged tree"), ("changed", f"{cfg.mirror_changed}% changed")):
                key = f"mirror_{direction}_{what}"
                vals = {c: self.med(key, c) for c in clients}
                cells = ["—" if vals[c] is None else f"{vals[c]:.2f}" for c in clients]
                peers = [v for c, v in vals.items() if not c.startswith("3700ftp") and v is not None]
                ours = vals.get("3700ftp")
                ratio = f"{ours / min(peers):.2f}" if (ours is not None and peers) else "—"
                add(f"| {direction}, {title} (s) | " + " | ".join(cells) + f" | {ratio} |")
        if getattr(self, "mirror_cmds", None):
            add("")
            add("Commands sent (vsftpd's protocol log), per run:")
            add("")
            add("| mirror | " + " | ".join(clients) + " |")
            add("|" + "---|" * (len(clients) + 1))
            for direction in ("download", "upload"):
                for what in ("unchanged", "changed"):
                    cells = []
                    for c in clients:
                        cmds = self.mirror_cmds.get((direction, what, c))
                        cells.append("—" if cmds is None else f"{len(cmds)}: {self.verb_summary(cmds)}")
                    add(f"| {direction}, {what} | " + " | ".join(cells) + " |")
        add("")

    # -- report ------------------------------------------------------------------------

    def med(self, key, client):
        values = self.results.get(key, {}).get(client)
        return statistics.median(values) if values else None

    def report(self, started, finished, load_before, load_after):
        cfg = self.cfg
        clients = cfg.clients
        peers = [c for c in clients if not c.startswith("3700ftp")]
        alt = "3700ftp-alt" in clients
        lines = []
        add = lines.append
        add(f"Run {started:%Y-%m-%d %H:%M} UTC, {finished - started} long; "
            f"load average before {load_before}, after {load_after}.")
        add("")
        add(machine_summary(cfg))
        add("")
        add(f"Sizes: big {cfg.big_mb} MiB, small {cfg.small_mb} MiB; {cfg.files} files of "
            f"{cfg.file_kb} KiB; {cfg.ls_runs} ls runs; {cfg.dirs} mkdir/rmdir pairs. "
            f"Medians of {cfg.big_reps} (big) / {cfg.reps} (others) repetitions.")
        add("")
        head = ("| measurement | " + " | ".join(clients) + " | raw TCP copy | ours / best peer | ours / raw |"
                + (" alt / ours |" if alt else ""))
        add(head)
        add("|" + "---|" * (head.count("|") - 1))

        def row(title, key, unit, fmt, higher_better, raw_key=None, scale=1.0):
            vals = {c: self.med(key, c) for c in clients}
            if all(v is None for v in vals.values()):
                return
            cells = [("—" if vals[c] is None else fmt.format(vals[c] * scale)) for c in clients]
            raw = self.med(raw_key, "raw") if raw_key else None
            raw_cell = "—" if raw is None else fmt.format(raw * scale)
            peer_vals = [vals[p] for p in peers if vals[p] is not None]
            ours = vals.get("3700ftp")
            ratio = "—"
            if ours is not None and peer_vals:
                best = max(peer_vals) if higher_better else min(peer_vals)
                ratio = f"{ours / best:.2f}"
            raw_ratio = "—" if (ours is None or raw is None) else f"{ours / raw:.2f}"
            extra = ""
            if alt:
                other = vals.get("3700ftp-alt")
                extra = " — |" if (ours is None or other is None) else f" {other / ours:.2f} |"
            add(f"| {title} ({unit}) | " + " | ".join(cells) + f" | {raw_cell} | {ratio} | {raw_ratio} |"
                + extra)

        for label in ("big", "small"):
            size = f"{self.sizes[label] // MiB} MiB"
            row(f"download {size}", f"download_{label}", "MB/s", "{:.0f}", True, f"raw_file_{label}")
            row(f"upload {size}", f"upload_{label}", "MB/s", "{:.0f}", True, f"raw_file_{label}")
        for label in ("big", "small"):
            size = f"{self.sizes[label] // MiB} MiB"
            row(f"peak RSS, download {size}", f"rss_download_{label}", "MiB", "{:.1f}", False, scale=1 / 1024)
            row(f"peak RSS, upload {size}", f"rss_upload_{label}", "MiB", "{:.1f}", False, scale=1 / 1024)
        n = cfg.files
        row(f"{n} files upload, one session", "many_upload", "ms/file", "{:.2f}", False, scale=1000 / n)
        row(f"{n} files download, one session", "many_download", "ms/file", "{:.2f}", False, scale=1000 / n)
        row(f"{cfg.ls_runs} one-shot ls, total", "ls_total", "s", "{:.2f}", False)
        row("one-shot ls, median run", "ls_each", "ms", "{:.1f}", False, scale=1000)
        row(f"{cfg.dirs} mkdir+rmdir, one session", "dirs", "ms/pair", "{:.3f}", False, scale=1000 / cfg.dirs)
        add("")
        if self.results.get("raw_file_big"):
            add("MB = 10^6 bytes. The raw TCP copy column is, per repetition, the fastest of "
                "these loopback copies of the same file into a file (medians, MB/s): ")
            for target, what in (("file", "into a file"), ("null", "into /dev/null (TCP alone)")):
                for l in ("big", "small"):
                    key = f"raw_{target}_{l}"
                    if self.results.get(key):
                        add(f"- {self.sizes[l] // MiB} MiB {what}: " + ", ".join(
                            f"{m} {self.med(key, m):.0f}" for m in self.RAW_METHODS
                            if self.results[key].get(m)))
            add("")
        self.mirror_report(add)
        if self.counts:
            add("Control commands sent (from verbose output):")
            add("")
            add("| operation | " + " | ".join(clients) + " |")
            add("|" + "---|" * (len(clients) + 1))

            def crow(title, f):
                add(f"| {title} | " + " | ".join(f(self.counts[c]) if c in self.counts else "—" for c in clients) + " |")

            crow("one-shot download (whole run)", lambda c: str(len(c["download_one"])))
            crow("one-shot upload (whole run)", lambda c: str(len(c["upload_one"])))
            crow("one-shot ls (whole run)", lambda c: str(len(c["ls"])))
            crow("session upload: per file", lambda c: f"{c['many_upload_per_file']:g}")
            crow("session upload: fixed", lambda c: f"{c['many_upload_fixed']:g}")
            crow("session download: per file", lambda c: f"{c['many_download_per_file']:g}")
            crow("session download: fixed", lambda c: f"{c['many_download_fixed']:g}")
            crow("session mkdir+rmdir: per pair", lambda c: f"{c['dirs_per_pair']:g}")
            crow("session mkdir+rmdir: fixed", lambda c: f"{c['dirs_fixed']:g}")
            add("")
            add("Command sequences (one-shot download / upload / ls, and a 5-file session upload and download):")
            add("")
            add("```")
            for c in clients:
                if c not in self.counts:
                    continue
                k = self.counts[c]
                for what in ("download_one", "upload_one", "ls", "many_upload_5", "many_download_5"):
                    shown = [re.sub(r"^PASS .*", "PASS ****", x) for x in k[what]]
                    add(f"{c:8} {what:16} " + ", ".join(shown))
            add("```")
        return "\n".join(lines)


def first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        text = (out.stdout or out.stderr).strip().splitlines()
        return text[0] if text else "?"
    except Exception:  # noqa: BLE001 - informational only
        return "?"


def machine_summary(cfg):
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    if os.environ.get("BENCH_REV"):
        built = os.environ["BENCH_REV"]
    elif os.environ.get("BENCH_BIN"):
        built = "built elsewhere"
    else:
        rev = first_line(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "src", "Cargo.toml"],
                               capture_output=True, text=True).stdout.strip()
        built = f"git {rev}{', src modified' if dirty else ''}"
    fs = subprocess.run(["df", "--output=fstype", cfg.tmpdir], capture_output=True,
                        text=True).stdout.split()[-1]
    return (f"Machine: {os.cpu_count()} CPUs ({cpu}), {mem_kib / 1024 / 1024:.1f} GiB RAM, "
            f"Linux {platform.release()}; files in {cfg.tmpdir} ({fs}).  \n"
            f"3700ftp {cfg.bin} ({built}); "
            f"{first_line(['curl', '--version'])[:12]}; "
            f"{first_line(['lftp', '--version']).replace('LFTP | ', 'lftp ').split(' |')[0]}; "
            f"vsftpd 3.0.3; socat {socat_version()}."
            + (f"  \n3700ftp-alt {cfg.alt_bin} ({os.environ.get('BENCH_ALT_REV', 'patched build')})."
               if cfg.alt_bin else ""))


def socat_version():
    out = subprocess.run(["socat", "-V"], capture_output=True, text=True).stdout
    m = re.search(r"socat version (\S+)", out)
    return m.group(1) if m else "?"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--raw-send":
        raw_send(int(sys.argv[2]), sys.argv[3])
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--raw-recv":
        raw_recv(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        return 0
    cfg = Config()
    bench = Bench(cfg)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    load_before = loadavg()
    try:
        bench.setup()
        bench.start_vsftpd()
        if cfg.only - {"mirror"}:
            bench.prepare_data()
        else:
            bench.sizes = {"big": cfg.big_mb * MiB, "small": cfg.small_mb * MiB}
        steps = [("raw", bench.bench_raw), ("transfer", bench.bench_transfers),
                 ("many", bench.bench_many), ("ls", bench.bench_ls),
                 ("dirs", bench.bench_dirs), ("count", bench.bench_counts),
                 ("mirror", bench.bench_mirror)]
        for name, step in steps:
            if name in cfg.only:
                t0 = time.monotonic()
                step()
                log(f"{name}: {time.monotonic() - t0:.0f} s")
        finished = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        text = bench.report(started, finished, load_before, loadavg())
    except Failure as e:
        log(f"FAILED: {e}")
        if getattr(bench, "srv", None) and os.path.exists(os.path.join(bench.srv, "vsftpd.out")):
            with open(os.path.join(bench.srv, "vsftpd.out")) as f:
                tail = f.read()[-1000:]
            if tail:
                log(f"vsftpd output:\n{tail}")
        return 1
    finally:
        bench.cleanup()
    print(text)
    os.makedirs(cfg.out, exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    md = os.path.join(cfg.out, f"results-{stamp}.md")
    with open(md, "w") as f:
        f.write(text + "\n")
    with open(os.path.join(cfg.out, f"results-{stamp}.json"), "w") as f:
        json.dump({"config": vars(cfg) | {"only": sorted(cfg.only)}, "results": bench.results,
                   "counts": bench.counts}, f, indent=1)
    log(f"results written to {md} (and .json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
