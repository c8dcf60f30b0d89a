#!/usr/bin/env python3
"""The slow-link benchmark's driver: run by benches/latency.sh INSIDE the network
namespace it made (loopback delayed 20 ms each way in PREROUTING by nfq-delay,
rate limited by TBF). It reuses bench.py's vsftpd and client helpers.

  latency.py run PROFILE RESULTS.json    # measures one link profile, adds to RESULTS.json
  latency.py report RESULTS.json OUT.md  # one table from every profile measured

Profiles: `clean` (40 ms RTT, 90 Mbit/s) runs every workload but the lossy one;
`lossy` (the same with 1 % loss, reno) runs the 4 MiB download. Medians of
LAT_REPS (3) repetitions; the clients' order rotates from one repetition to the
next. Environment (all optional): LAT_REPS, LAT_FILES (80), LAT_FILE_KB (4),
LAT_BIG_MB (64), LAT_LOSSY_MB (4), LAT_LS_RUNS (5), LAT_ONLY (comma list of
workloads: one_down,one_up,par8_down,default_down,mirror_down,mirror1_down,mirror_up,
mirror1_up,big,ls,first_byte,lossy),
LAT_CLIENTS (comma list: only these clients, named as in the report, e.g.
3700ftp-seg4,lftp-pget4 to sample a noisy lossy row many times),
LAT_LOSSY_REPS (repetitions of the lossy row: the larger of LAT_REPS and 10),
LAT_RTT_MS (40, what the namespace was set up with; for the RTT columns),
BENCH_BIN (the 3700ftp binary), BENCH_ALT_BIN (a second 3700ftp measured as
"3700ftp-alt", e.g. the build before a change), LAT_TRACE_DIR (keeps there,
as text, a tcpdump trace of each first-data-byte run, of one one-shot ls and of the first
repetition of each many-file workload, and notes the median time a file takes between transfer
commands in it).
"""

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (benches/bench.py: vsftpd, users, client argv helpers)

MiB = bench.MiB


def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v not in (None, "") else default


class Latency(bench.Bench):
    def __init__(self, cfg, profile):
        super().__init__(cfg)
        self.profile = profile
        self.reps = env_int("LAT_REPS", 3)
        # Random loss makes single runs of the lossy row swing by 2x: it gets more samples.
        self.lossy_reps = env_int("LAT_LOSSY_REPS", max(self.reps, 10))
        self.files = env_int("LAT_FILES", 80)
        self.file_kb = env_int("LAT_FILE_KB", 4)
        self.big_mb = env_int("LAT_BIG_MB", 64)
        self.lossy_mb = env_int("LAT_LOSSY_MB", 4)
        self.ls_runs = env_int("LAT_LS_RUNS", 5)
        self.rtt = env_int("LAT_RTT_MS", 40) / 1000.0
        only = os.environ.get("LAT_ONLY", "")
        self.only = {s.strip() for s in only.split(",") if s.strip()}
        picked = os.environ.get("LAT_CLIENTS", "")
        self.picked = {s.strip() for s in picked.split(",") if s.strip()}
        self.ours_clients = ["3700ftp"] + (["3700ftp-alt"] if cfg.alt_bin else [])
        self.segments = {c: self.has_segments(c) for c in self.ours_clients}

    def wanted(self, workload):
        return not self.only or workload in self.only

    def chosen(self, clients):
        return [c for c in clients if not self.picked or c in self.picked]

    def has_segments(self, client):
        binary = self.cfg.alt_bin if client == "3700ftp-alt" else self.cfg.bin
        out = subprocess.run([binary, "cp", "--help"], capture_output=True, text=True)
        return "--segments" in (out.stdout + out.stderr)

    def prepare(self):
        self.names = [f"f{i:05d}.bin" for i in range(self.files)]
        self.many_src = os.path.join(self.cli, "many")
        os.makedirs(self.many_src, exist_ok=True)
        srv_many = self.server_dir("many")
        for n in self.names:
            data = os.urandom(self.file_kb * 1024)
            with open(os.path.join(self.many_src, n), "wb") as f:
                f.write(data)
            p = os.path.join(srv_many, n)
            with open(p, "wb") as f:
                f.write(data)
            self.give(p)
        for label, mb in (("big", self.big_mb), ("lossy", self.lossy_mb)):
            p = os.path.join(self.home, f"{label}.bin")
            self.make_file(p, mb * MiB)
            self.give(p)
        lsdir = self.server_dir("lsdir")
        for i in range(20):
            p = os.path.join(lsdir, f"entry-{i:02d}.txt")
            with open(p, "w") as f:
                f.write("x" * (i * 10))
            self.give(p)
        os.sync()

    def fresh_dir(self, name):
        d = os.path.join(self.cli, name)
        if os.path.exists(d):
            shutil.rmtree(d)
        os.makedirs(d)
        return d

    def binary(self, client):
        return self.cfg.alt_bin if client == "3700ftp-alt" else self.cfg.bin

    # -- workloads: (argv, stdin script or None, cwd) -----------------------------

    def argv_for(self, workload, client, local):
        b = self.base
        names = self.names
        if workload in ("one_down", "one_up"):
            up = workload == "one_up"
            remote = "/up" if up else "/many"
            if client.startswith("3700ftp"):
                verb = "put" if up else "get"
                script = self.write_script(f"{workload}-{client}.txt",
                                           [f"cd {remote}"] + [f"{verb} {n}" for n in names])
                return [self.binary(client), b + "/"], script, local
            if client == "curl":
                if up:
                    return self.curl() + ["-T", "{" + ",".join(names) + "}", f"{b}{remote}/"], None, local
                argv = self.curl()
                for n in names:
                    argv += ["-o", n, f"{b}{remote}/{n}"]
                return argv, None, local
            verb = "mput" if up else "mget"
            return self.lftp(f"cd {remote}; lcd {local}; {verb} f*.bin"), None, local
        if workload == "par8_down":
            if client.startswith("3700ftp"):
                return [self.binary(client), "cp", "-j", "8", f"{b}/many/f*.bin", local + "/"], None, local
            if client == "curl":
                argv = self.curl() + ["--parallel", "--parallel-max", "8"]
                for n in names:
                    argv += ["-o", n, f"{b}/many/{n}"]
                return argv, None, local
            return self.lftp(f"cd /many; lcd {local}; mget -P 8 f*.bin"), None, local
        if workload in ("mirror_down", "mirror1_down"):
            # A tree into an empty directory; curl has no mirror. lftp's mirror uses one
            # connection unless told otherwise (`-P`).
            if client.startswith("3700ftp"):
                jobs = ["-j", "1"] if workload == "mirror1_down" else []
                return [self.binary(client), "mirror"] + jobs + [f"{b}/many/", local], None, local
            return self.lftp(f"mirror /many {local}"), None, local
        if workload in ("mirror_up", "mirror1_up"):
            if client.startswith("3700ftp"):
                jobs = ["-j", "1"] if workload == "mirror1_up" else []
                return [self.binary(client), "mirror"] + jobs + [local + "/", f"{b}/up/"], None, local
            return self.lftp(f"mirror -R {local} /up"), None, local
        if workload == "default_down":
            if client.startswith("3700ftp"):
                return [self.binary(client), "cp", f"{b}/many/f*.bin", local + "/"], None, local
            if client == "curl":
                loop = "; ".join(f"curl -q -sS -o {n} {b}/many/{n} || exit 1" for n in names)
                return ["sh", "-c", loop], None, local
            return self.lftp(f"cd /many; lcd {local}; mget f*.bin"), None, local
        raise ValueError(workload)

    def check_files(self, local, remote_disk=None):
        if remote_disk:
            got = sorted(os.listdir(remote_disk))
        else:
            got = sorted(os.listdir(local))
        if got != self.names:
            raise bench.Failure(f"{len(got)} files, want {len(self.names)}")

    def many(self, workload, clients):
        clients = self.chosen(clients)
        for rep in range(self.reps):
            for client in self.rotate(clients, rep):
                up = workload in ("one_up", "mirror_up", "mirror1_up")
                local = self.many_src if up else self.fresh_dir("dl")
                disk = self.server_dir("up") if up else None
                os.sync()
                argv, script, cwd = self.argv_for(workload, client, local)
                traced = os.environ.get("LAT_TRACE_DIR") and rep == 0 and shutil.which("tcpdump")
                dump = self.start_trace() if traced else None
                secs, _, _ = self.run(argv, cwd=cwd, stdin_path=script)
                if dump:
                    text = self.stop_trace(dump, f"{workload}-{client}")
                    # One connection only: with several, commands interleave and the gaps
                    # say nothing about a file's cost.
                    cycle = self.cycle_ms(text) if workload in ("one_down", "one_up") else None
                    if cycle:
                        note = (f"{workload} {client}: {cycle:.1f} ms a file between transfer commands "
                                f"in the trace ({cycle / 1000 / self.rtt:.2f} nominal RTT; wall-clock time "
                                f"also carries the start, the login and the exit)")
                        bench.log(note)
                        self.notes.append(note)
                self.check_files(local, disk)
                self.record(workload, client, secs)
                bench.log(f"{self.profile} {workload} rep {rep + 1} {client}: {secs:.2f} s "
                          f"({secs / self.files * 1000:.0f} ms/file, "
                          f"{secs / self.files / self.rtt:.2f} RTT/file)")

    @staticmethod
    def rotate(clients, rep):
        k = rep % len(clients)
        return clients[k:] + clients[:k]

    def one_file_argv(self, client, label, local):
        url = f"{self.base}/{label}.bin"
        if client.startswith("3700ftp-seg") or client.startswith("3700ftp-alt-seg"):
            base = "3700ftp-alt" if client.startswith("3700ftp-alt") else "3700ftp"
            return [self.binary(base), "cp", "--segments", "4", url, local]
        if client.startswith("3700ftp"):
            return [self.binary(client), "cp", url, local]
        if client == "curl":
            return self.curl() + ["-o", local, url]
        if client == "lftp-pget4":
            return self.lftp(f"pget -n 4 /{label}.bin -o {local}")
        return self.lftp(f"get /{label}.bin -o {local}")

    def one_file(self, workload, label, mb):
        clients = []
        for c in self.ours_clients:
            clients.append(c)
            if self.segments[c]:
                clients.append(c + "-seg4")
        clients = self.chosen(clients + ["curl", "lftp", "lftp-pget4"])
        local = os.path.join(self.cli, f"{label}.dl")
        reps = self.lossy_reps if workload == "lossy" else self.reps
        for rep in range(reps):
            for client in self.rotate(clients, rep):
                if os.path.exists(local):
                    os.remove(local)
                os.sync()
                secs, _, _ = self.run(self.one_file_argv(client, label, local))
                got = os.path.getsize(local) if os.path.exists(local) else -1
                if got != mb * MiB:
                    raise bench.Failure(f"{client} {label}: {got} bytes")
                self.record(workload, client, secs)
                bench.log(f"{self.profile} {workload} rep {rep + 1} {client}: {secs:.2f} s")
        os.remove(local)

    def ls(self, clients):
        clients = self.chosen(clients)
        for rep in range(self.reps):
            for client in self.rotate(clients, rep):
                argv = self.ls_argv(client) if not client.startswith("3700ftp") else \
                    [self.binary(client), "ls", self.base + "/lsdir/"]
                traced = os.environ.get("LAT_TRACE_DIR") and rep == 0 and shutil.which("tcpdump")
                if traced:
                    dump = self.start_trace()
                    self.run(argv)
                    self.stop_trace(dump, f"ls-{client}")
                times = [self.run(argv)[0] for _ in range(self.ls_runs)]
                self.record("ls", client, statistics.median(times))
                bench.log(f"{self.profile} ls rep {rep + 1} {client}: median {statistics.median(times) * 1000:.0f} ms")

    def start_trace(self):
        """tcpdump on the namespace's loopback, into a pcap in the work directory."""
        pcap = os.path.join(self.work, "trace.pcap")
        dump = subprocess.Popen(["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-n", "-s", "128",
                                 "-w", pcap, "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        dump.pcap = pcap
        self.children.append(dump)
        # tcpdump says "listening on lo" once it captures.
        dump.stderr.readline()
        time.sleep(0.2)
        return dump

    def stop_trace(self, dump, name):
        """Stops `dump` and returns its trace as text (kept as NAME.txt in LAT_TRACE_DIR)."""
        time.sleep(0.3)
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)
        self.children.remove(dump)
        text = subprocess.run(["tcpdump", "-r", dump.pcap, "-tt", "-n", "-A"], capture_output=True,
                              text=True).stdout
        trace_dir = os.environ.get("LAT_TRACE_DIR")
        if trace_dir:
            os.makedirs(trace_dir, exist_ok=True)
            with open(os.path.join(trace_dir, f"{name}.txt"), "w") as f:
                f.write(text)
        return text

    @staticmethod
    def cycle_ms(text):
        """The median time from one RETR/STOR command to the next as the client sends them, in a
        tcpdump -A trace: the steady per-file cost of a many-file run, without its start."""
        stamp, sent = None, []
        for line in text.splitlines():
            m = re.match(r"^(\d+\.\d+) IP", line)
            if m:
                stamp = float(m.group(1))
            elif stamp is not None and re.search(r"\b(RETR|STOR) \S", line):
                sent.append(stamp)
                stamp = None
        gaps = [(b - a) * 1000 for a, b in zip(sent, sent[1:])]
        return statistics.median(gaps) if gaps else None

    def first_byte(self, clients):
        """From a tcpdump trace in the namespace: the client's SYN to the control port, and the
        first data-connection segment with payload from the server (seen as it leaves the
        server; it reaches the client half an RTT later)."""
        clients = self.chosen(clients)
        if shutil.which("tcpdump") is None:
            self.notes.append("first data byte: tcpdump missing, not measured")
            return
        remote = "/many/" + self.names[0]
        for rep in range(self.reps):
            for client in self.rotate(clients, rep):
                local = os.path.join(self.cli, "fb.bin")
                if os.path.exists(local):
                    os.remove(local)
                dump = self.start_trace()
                argv = self.transfer_argv(client if client in ("curl", "lftp") else "3700ftp",
                                          "download", "", local, remote)
                if client.startswith("3700ftp"):
                    argv[0] = self.binary(client)
                self.run(argv)
                text = self.stop_trace(dump, f"first_byte-{client}-{rep + 1}")
                rtts = self.first_byte_rtts(text)
                if rtts is None:
                    self.notes.append(f"first data byte: no SYN or data segment in the trace of "
                                      f"{client}, repetition {rep + 1}")
                    bench.log(f"{self.profile} first data byte rep {rep + 1} {client}: not found")
                    continue
                self.record("first_byte", client, rtts)
                bench.log(f"{self.profile} first data byte rep {rep + 1} {client}: {rtts:.2f} RTT")

    def first_byte_rtts(self, text):
        syn = None
        pat = re.compile(r"^(\d+\.\d+) IP (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[([^\]]*)\].*length (\d+)")
        for line in text.splitlines():
            m = pat.match(line)
            if not m:
                continue
            t, sport, dport, flags, length = float(m[1]), int(m[3]), int(m[5]), m[6], int(m[7])
            if syn is None and dport == self.port and flags == "S":
                syn = t
            elif syn is not None and self.pasv_low <= sport <= self.pasv_low + 199 and length > 0:
                return (t + self.rtt / 2 - syn) / self.rtt
        return None

    def start_vsftpd(self):
        super().start_vsftpd()
        self.pasv_low = 24000 + (os.getpid() % 20) * 200

    def main(self):
        ours = self.ours_clients
        clients = ours + ["curl", "lftp"]
        if self.profile == "clean":
            for w in ("one_down", "one_up", "par8_down", "default_down"):
                if self.wanted(w):
                    self.many(w, clients)
            for w in ("mirror_down", "mirror1_down", "mirror_up", "mirror1_up"):
                if self.wanted(w):
                    self.many(w, [c for c in clients if c != "curl"])
            if self.wanted("big"):
                self.one_file("big", "big", self.big_mb)
            if self.wanted("ls"):
                self.ls(clients)
            if self.wanted("first_byte"):
                self.first_byte(clients)
        elif self.wanted("lossy"):
            self.one_file("lossy", "lossy", self.lossy_mb)


def run(profile, results_path):
    cfg = bench.Config()
    lat = Latency(cfg, profile)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, lambda n, _f: (_ for _ in ()).throw(SystemExit(128 + n)))
    try:
        lat.setup()
        lat.start_vsftpd()
        lat.prepare()
        lat.main()
    except bench.Failure as e:
        bench.log(f"FAILED: {e}")
        lat.notes.append(f"{profile}: stopped early: {e}")
        status = 1
    else:
        status = 0
    finally:
        lat.cleanup()
    data = {}
    if os.path.exists(results_path):
        with open(results_path) as f:
            data = json.load(f)
    data.setdefault("results", {}).update(lat.results)
    data.setdefault("notes", []).extend(lat.notes)
    data["config"] = {"reps": lat.reps, "lossy_reps": lat.lossy_reps, "files": lat.files, "file_kb": lat.file_kb,
                      "big_mb": lat.big_mb, "lossy_mb": lat.lossy_mb, "ls_runs": lat.ls_runs,
                      "rtt_ms": lat.rtt * 1000, "bin": cfg.bin, "alt_bin": cfg.alt_bin}
    with open(results_path, "w") as f:
        json.dump(data, f, indent=1)
    return status


def report(results_path, out_md):
    with open(results_path) as f:
        data = json.load(f)
    res, c = data["results"], data["config"]
    rtt = c["rtt_ms"] / 1000
    n = c["files"]
    cols = []
    for key in ("3700ftp", "3700ftp-seg4", "3700ftp-alt", "3700ftp-alt-seg4", "curl", "lftp", "lftp-pget4"):
        if any(key in v for v in res.values()):
            cols.append(key)

    def med(w, client):
        v = res.get(w, {}).get(client)
        return statistics.median(v) if v else None

    lines = []
    add = lines.append
    add(f"Link: {c['rtt_ms']:.0f} ms RTT (measured with `ping -U` in the namespace: {os.environ.get('LAT_PING', '?')}), 90 Mbit/s (TBF); "
        f"lossy profile: 1 % random loss, reno. vsftpd. Medians of {c['reps']} "
        f"({c.get('lossy_reps', c['reps'])} for the lossy row).")
    add("")
    add("| workload | " + " | ".join(cols) + " |")
    add("|" + "---|" * (len(cols) + 1))

    def row(title, w, fmt):
        cells = []
        for col in cols:
            v = med(w, col)
            cells.append("—" if v is None else fmt(v))
        if any(x != "—" for x in cells):
            add(f"| {title} | " + " | ".join(cells) + " |")

    per_file = lambda v: f"{v / n * 1000:.0f} ms/file ({v / n / rtt:.1f} RTT)"  # noqa: E731
    row(f"{n} × {c['file_kb']} KiB download, one connection", "one_down", per_file)
    row(f"{n} × {c['file_kb']} KiB upload, one connection", "one_up", per_file)
    row(f"{n} × {c['file_kb']} KiB download, 8 connections", "par8_down", lambda v: f"{v:.2f} s")
    row(f"{n} × {c['file_kb']} KiB download, each client's default multi-file way", "default_down",
        lambda v: f"{v:.2f} s")
    row(f"{n} × {c['file_kb']} KiB `mirror` into an empty directory, each client's default",
        "mirror_down", lambda v: f"{v:.2f} s")
    row(f"{n} × {c['file_kb']} KiB `mirror`, one connection", "mirror1_down", lambda v: f"{v:.2f} s")
    row(f"{n} × {c['file_kb']} KiB `mirror` up into an empty directory, each client's default",
        "mirror_up", lambda v: f"{v:.2f} s")
    row(f"{n} × {c['file_kb']} KiB `mirror` up, one connection", "mirror1_up", lambda v: f"{v:.2f} s")
    row(f"{c['big_mb']} MiB download, clean link", "big", lambda v: f"{v:.2f} s")
    row(f"{c['lossy_mb']} MiB download, 1 % loss", "lossy", lambda v: f"{v:.2f} s")
    row("one-shot `ls`", "ls", lambda v: f"{v * 1000:.0f} ms ({v / rtt:.1f} RTT)")
    row("one-shot `cp`: first data byte from connect", "first_byte", lambda v: f"{v:.1f} RTT")
    add("")
    add("How each client runs them: one connection: 3700ftp a batch session of `get NAME`/`put NAME` "
        "lines, curl one invocation with every URL (`-o` each / `-T {a,b,…}`), lftp `mget`/`mput f*.bin`; "
        "8 connections: 3700ftp `cp -j 8 URL/f*.bin DIR/`, curl `--parallel --parallel-max 8`, lftp "
        "`mget -P 8`; default multi-file way: 3700ftp `cp URL/f*.bin DIR/`, lftp `mget f*.bin`, curl a "
        "shell loop of one `curl -o` per file; mirror: 3700ftp `mirror URL/many/ DIR` and `mirror DIR/ URL/up/` "
        "(`-j 1` for one connection), lftp `mirror /many DIR` and `mirror -R DIR /up` (one connection by "
        "default), curl has none; big and lossy: `cp URL FILE` (`-seg4`: `--segments 4`), "
        "curl `-o`, lftp `get` and `pget -n 4`; first data byte: from a tcpdump trace in the namespace, "
        "the client's SYN to the control port to the first data-connection segment with payload plus "
        "half an RTT (one 4 KiB file, one-shot).")
    for note in data.get("notes", []):
        add(f"- {note}")
    text = "\n".join(lines) + "\n"
    with open(out_md, "w") as f:
        f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "run":
        sys.exit(run(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 4 and sys.argv[1] == "report":
        sys.exit(report(sys.argv[2], sys.argv[3]))
    sys.exit(__doc__)
