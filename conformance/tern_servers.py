"""Starts Tern's mqnamesrv and mqbroker on ephemeral loopback ports (temp
directories, optional strict mode) for the conformance runners, and collects
the strict-violation lines they log. Python standard library only."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

TAG = "strict-violation "


def find_binaries(build_dir):
    ns = os.path.join(build_dir, "namesrv", "mqnamesrv")
    br = os.path.join(build_dir, "broker", "mqbroker")
    for p in (ns, br):
        if not os.access(p, os.X_OK):
            raise SystemExit("conformance: %s is missing (build the project first)" % p)
    return ns, br


class Proc:
    """One server process; stdout is scanned for the boot line, everything is kept in a log file."""

    def __init__(self, argv, log_path, boot_re, timeout=30):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.boot = None
        self._ev = threading.Event()
        self._re = re.compile(boot_re)
        self._t = threading.Thread(target=self._pump, daemon=True)
        self._t.start()
        if not self._ev.wait(timeout) or self.boot is None:
            self.stop()
            raise RuntimeError("%s did not boot; log %s:\n%s" % (argv[0], log_path, "".join(self.lines[-20:])))

    def _pump(self):
        for line in self.p.stdout:
            self.lines.append(line)
            self.log.write(line)
            self.log.flush()
            m = self._re.search(line)
            if m and self.boot is None:
                self.boot = m
                self._ev.set()
        self._ev.set()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self._t.join(5)
        self.log.close()
        return self.p.returncode

    def violations(self):
        out = []
        for line in self.lines:
            i = line.find(TAG)
            if i >= 0:
                try:
                    out.append(json.loads(line[i + len(TAG):].strip()))
                except ValueError:
                    out.append({"rule": "unparsable-log-line", "spec": line.strip()})
        return out


class TernServers:
    """mqnamesrv + mqbroker; .namesrv / .broker are "127.0.0.1:port"."""

    def __init__(self, build_dir, strict=False, with_broker=True, extra_broker_conf="", keep=False):
        self.dir = tempfile.mkdtemp(prefix="tern_conf_")
        self.keep = keep
        ns_bin, br_bin = find_binaries(build_dir)
        strict_line = "strictMode=true\n" if strict else ""
        with open(os.path.join(self.dir, "namesrv.conf"), "w") as f:
            f.write("listenPort=0\nbindAddress=127.0.0.1\nkvConfigPath=%s/kv/kvConfig.json\nlogLevel=warn\n%s"
                    % (self.dir, strict_line))
        self.ns = Proc([ns_bin, "-c", os.path.join(self.dir, "namesrv.conf")], os.path.join(self.dir, "namesrv.log"),
                       r"boot success.*listening on [^:]+:(\d+)")
        self.namesrv = "127.0.0.1:%s" % self.ns.boot.group(1)
        self.br = None
        self.broker = None
        if with_broker:
            with open(os.path.join(self.dir, "broker.conf"), "w") as f:
                f.write("listenPort=0\nbindAddress=127.0.0.1\nbrokerIP1=127.0.0.1\nstorePathRootDir=%s/store\n"
                        "mappedFileSizeCommitLog=4194304\nmappedFileSizeConsumeQueue=60000\nlogLevel=warn\n"
                        "namesrvAddr=%s\n%s%s\n" % (self.dir, self.namesrv, strict_line, extra_broker_conf))
            try:
                self.br = Proc([br_bin, "-c", os.path.join(self.dir, "broker.conf")],
                               os.path.join(self.dir, "broker.log"), r"boot success.*listening on [^:]+:(\d+)")
            except Exception:
                self.ns.stop()
                raise
            self.broker = "127.0.0.1:%s" % self.br.boot.group(1)

    def violations(self):
        return self.ns.violations() + (self.br.violations() if self.br else [])

    def stop(self):
        rcs = []
        if self.br:
            rcs.append(self.br.stop())
        rcs.append(self.ns.stop())
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return rcs
