"""Helpers for serve.py's tests: free ports, process checks, HTTP through the proxy, and the
serve.py process itself."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.e2e.harness import ROOT, missing

SERVE = ROOT / "deploy" / "serve.py"
FAKE = ROOT / "tests" / "deploy" / "fake_replica.py"


def haproxy_or_missing() -> str:
    """HAProxy's path; without it skip, or fail under REQUIRE_BROWSER=1 (.ci/run installs it
    with Chromium)."""
    from deploy.serve import find_haproxy

    path = find_haproxy()
    if path is None:
        missing("haproxy is not installed (apt-get install haproxy)")
    return path


def _free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# below Linux's ephemeral ports (32768-60999 by default): no outgoing connection takes one of
# these as its source port between the check and serve.py's bind
DEFAULT_PORT_RANGE = "20000-32000"


def free_ports(n: int) -> int:
    """The first of ``n`` consecutive free ports on 127.0.0.1, from ``TEST_PORT_RANGE=LO-HI``
    (e.g. a shared machine's allotment) or DEFAULT_PORT_RANGE."""
    lo, hi = (int(x) for x in os.environ.get("TEST_PORT_RANGE", DEFAULT_PORT_RANGE).split("-"))
    starts = list(range(lo, hi - n + 2))
    random.shuffle(starts)  # two test runs at once rarely collide
    for start in starts:
        if all(_free(p) for p in range(start, start + n)):
            return start
    raise RuntimeError(f"no {n} consecutive free ports in {lo}-{hi}")


def gone(pid: int) -> bool:
    """Whether process ``pid`` no longer runs (a zombie waiting for its parent counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def group_gone(pgid: int) -> bool:
    """Whether no process of process group ``pgid`` runs (zombies aside)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return False
    return True


def wait_until(what: str, condition, timeout: float = 60.0, every: float = 0.1):
    """Poll ``condition()`` until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str, cookie: str | None = None, timeout: float = 30.0) -> tuple[int, str, str | None]:
    """GET ``url`` (with ``Cookie: cookie``): (status, body, the Set-Cookie header or None)."""
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return r.status, r.read().decode(), r.headers.get("Set-Cookie")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), e.headers.get("Set-Cookie")


class Served:
    """``python deploy/serve.py ...`` as a child process, its output in a file and its state
    in a JSON file."""

    def __init__(self, tmp: Path, *args: str, replicas: int = 2, stats: bool = False,
                 env: dict | None = None):
        self.port = free_ports(replicas + 2)
        self.state_path = tmp / "serve-state.json"
        self.log_path = tmp / "serve.log"
        self.argv = [sys.executable, str(SERVE), "--replicas", str(replicas),
                     "--port", str(self.port), "--bind", "127.0.0.1",
                     "--state-file", str(self.state_path)]
        if stats:
            self.argv += ["--stats", str(self.port + replicas + 1)]
        self.argv += list(args)
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed by stop/kill_all)
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=dict(os.environ, **(env or {})))
        self.url = f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text()

    def state(self) -> dict:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}

    def replica(self, name: str) -> dict:
        return next(r for r in self.state()["replicas"] if r["name"] == name)

    def wait_ready(self, timeout: float = 240.0) -> dict:
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"serve.py exited ({self.proc.returncode}):\n{self.output()}")
            return self.state().get("ready") and self.state()
        return wait_until("serve.py to be ready", ready, timeout, every=0.25)

    def pids(self) -> list[int]:
        st = self.state()
        return [p for p in [st["haproxy"]["pid"], *(r["pid"] for r in st["replicas"])] if p]

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, and its exit status (kill after ``timeout``)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill_all()
                raise
        self._log.close()
        return self.proc.returncode

    def kill_all(self) -> None:
        """Last resort after a failed test: kill serve.py and every process it wrote down."""
        pids = self.pids() if self.state() else []
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in pids:
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        self._log.close()
