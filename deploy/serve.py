"""Serve a class: N Streamlit replicas of the app behind HAProxy, with cookie affinity.

    python deploy/serve.py --replicas 2 --port 8080

Streamlit runs every session's script in one process under one interpreter lock and keeps each
session (its websocket, uploads, media) in that process's memory, so a class is served by
several processes, each a full replica, behind a load balancer that keeps a browser on the
replica holding its session. This script starts, as its own children (nothing is daemonised):

- ``--replicas`` N processes of ``streamlit run app.py`` (through ``deploy/replica.py``, which
  imports the pages' modules and starts the engine's warm-up first; default: one per core), from the
  repository root so that ``.streamlit/config.toml`` applies, each on its own loopback port
  (``--base-port`` and up; default: the ports right after ``--port``), headless, file watcher
  off;
- HAProxy in the foreground (``haproxy -db``) on ``--bind``:``--port`` with a configuration
  generated into a temporary directory and checked with ``haproxy -c`` first:

  * affinity by a cookie HAProxy inserts (``conv_replica_8080=r1``), never by client
    address: a campus NAT puts a whole lecture hall behind one address. The port is in the
    name because browsers scope cookies by host, not port: two classes served from one
    machine on two ports would otherwise overwrite each other's cookie;
  * a new browser goes to the replica with the fewest open connections (``balance
    leastconn``: each open tab holds one websocket, so this counts students);
  * the websocket (``/_stcore/stream``) is passed through, with a one-hour idle time-out
    (``timeout tunnel``; Streamlit pings every 30 s anyway); uploads, media, static files and
    components follow the same cookie, so they reach the replica that owns the session;
  * health checks on ``/_stcore/health``: a replica that stops answering leaves the rotation,
    and a request for it is sent to a live replica (``option redispatch``). Its students
    reload and get their settings back from the URL (``ui/state.py``);
  * ``--stats PORT``: HAProxy's statistics page on 127.0.0.1:PORT (CSV at ``/;csv``).

It waits until every replica answers its health check and HAProxy sees them all up, then
prints the address to share. It supervises: a replica that exits is reported and restarted
after 1, 2, 4 ... 30 s, at most ``--max-restarts`` times in 10 minutes (0: never restart);
HAProxy exiting stops everything. SIGINT or SIGTERM (and its own exit, even by an error) stop
every process it started: SIGTERM to each child's process group, a wait, then SIGKILL; the
exit status is then 0. Children also get SIGTERM from the kernel if this script is killed
outright (Linux's parent-death signal).

``--state-file PATH`` keeps a JSON description (process ids, ports, the cookie values,
replica states) up to date, for tools that need the process ids (the browser test kills one
replica by it). ``--pre-start CMD`` runs a command once before the replicas start (e.g. a
cache warm-up). Options of ``streamlit run`` can follow (``--server.maxUploadSize 50``), or
come after ``--``; serve.py itself sets the port, address, headless mode and file watcher.

Streamlit's XSRF protection stays on (its default): the XSRF cookie is checked against a copy
the page sends with each upload, by the replica that receives it, and affinity keeps the
browser on one replica. CORS protection stays on too: HAProxy passes the Host header through,
so the websocket's Origin matches.

Needs HAProxy (Debian/Ubuntu: ``apt-get install haproxy``; it lives in /usr/sbin, which is
searched even when it is not on the PATH).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import ctypes
import errno
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COOKIE = "conv_replica"  # + "_<port>": see cookie_name
BACKEND = "replicas"
HEALTH = "/_stcore/health"
# Debian and Ubuntu install haproxy into /usr/sbin, which is not on a normal user's PATH
SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")
INSTALL_HINT = "On Debian or Ubuntu: sudo apt-get install haproxy (or pass --haproxy PATH)."

# restart policy: a replica that exits is started again after 1, 2, 4, ... RESTART_DELAY_MAX
# seconds; one that exits more than --max-restarts times within RESTART_WINDOW is left down
RESTART_WINDOW = 600.0
RESTART_DELAY_MAX = 30.0
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL when stopping
POLL = 0.25

# the lines of Streamlit's start-up banner: they name the replica's own loopback address,
# which is not the one to share
BANNER = ("You can now view your Streamlit app", "URL: http", "Local URL:", "Network URL:",
          "External URL:")


class ServeError(Exception):
    """Something that stops serve.py from serving; its text is the message for the user."""


# ------------------------------------------------------------------------------------------
# The HAProxy configuration (pure)
# ------------------------------------------------------------------------------------------

def cookie_name(port: int) -> str:
    """The affinity cookie of the front end on ``port`` (browsers scope cookies by host only)."""
    return f"{COOKIE}_{port}"


def haproxy_config(*, bind: str, port: int, replica_ports: list[int], stats_port: int | None = None,
                   socket_path: str | None = None) -> str:
    """HAProxy's configuration: ``bind:port`` in front of replicas r1..rN on 127.0.0.1."""
    cookie = cookie_name(port)
    lines = [
        "# Generated by deploy/serve.py: one HAProxy in front of Streamlit replicas.",
        "global",
        # run in the foreground as serve.py's child (-db); one thread is plenty for a class
        "    nbthread 1",
        "    maxconn 4096",
    ]
    if socket_path:
        lines.append(f"    stats socket {socket_path} mode 600 level admin")
    lines += [
        "",
        "defaults",
        "    mode http",
        "    option dontlognull",
        "    option forwardfor",
        # a connection refused by a dead replica is retried at once on another one (every
        # retry is redispatched), and a cookie naming a replica that is down is ignored
        "    retries 2",
        "    option redispatch 1",
        # a request sent on a pooled connection to a replica that has just died gets no
        # answer: retry it too (else the student's reload shows a 502). Safe here: Streamlit's
        # HTTP requests are pages, static files, health, media; an upload larger than one
        # buffer is never retried, and the work itself runs over the websocket
        "    retry-on conn-failure empty-response",
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 120s",
        "    timeout http-request 30s",
        "    timeout http-keep-alive 15s",
        "    timeout queue 60s",
        # the websocket (/_stcore/stream) becomes a tunnel after its upgrade: this idle
        # time-out replaces the client/server ones (Streamlit pings every 30 s)
        "    timeout tunnel 1h",
        "    timeout client-fin 30s",
        "    timeout check 5s",
        "",
        "frontend class",
        f"    bind {_address(bind, port)}",
        f"    default_backend {BACKEND}",
        "",
        f"backend {BACKEND}",
        # a new browser goes to the replica with the fewest open connections (an open tab
        # holds one websocket); then the inserted cookie keeps it there, for every request:
        # page, websocket, uploads, media, static files, components
        "    balance leastconn",
        f"    cookie {cookie} insert indirect nocache httponly attr SameSite=Lax",
        "    option httpchk",
        f"    http-check send meth GET uri {HEALTH}",
        "    http-check expect status 200",
        # a replica busy with a long rerun answers slowly, not never: 3 failures 2 s apart
        # (each allowed 5 s) before it is taken out
        "    default-server check inter 2s fall 3 rise 2",
    ]
    for i, p in enumerate(replica_ports, 1):
        lines.append(f"    server r{i} 127.0.0.1:{p} cookie r{i}")
    if stats_port is not None:
        lines += [
            "",
            "listen stats",
            f"    bind 127.0.0.1:{stats_port}",
            "    stats enable",
            "    stats uri /",
            "    stats refresh 5s",
            "    stats show-legends",
        ]
    return "\n".join(lines) + "\n"


def _address(host: str, port: int) -> str:
    return f"{host}:{port}"  # HAProxy splits at the last colon, IPv6 included ("::1:8080")


# ------------------------------------------------------------------------------------------
# Checks before starting anything
# ------------------------------------------------------------------------------------------

def find_haproxy(explicit: str | None = None, *, path: str | None = None,
                 extra_dirs: tuple[str, ...] | None = None) -> str | None:
    """The haproxy executable: ``explicit`` if given (None when it is not executable), else
    the first on ``path`` (default: $PATH), else in ``extra_dirs`` (default: SBIN_DIRS)."""
    if explicit:
        return explicit if os.path.isfile(explicit) and os.access(explicit, os.X_OK) else None
    if path is None:
        path = os.environ.get("PATH", "")
    if extra_dirs is None:
        extra_dirs = SBIN_DIRS
    found = shutil.which("haproxy", path=path)
    if found:
        return found
    return shutil.which("haproxy", path=os.pathsep.join(extra_dirs)) if extra_dirs else None


def port_in_use(host: str, port: int) -> OSError | None:
    """The error binding ``host:port`` gives (None: free). SO_REUSEADDR as the servers set it,
    so a closed connection's TIME_WAIT does not count as taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            return exc
    return None


def check_ports(wanted: list[tuple[str, str, int]]) -> None:
    """Raise :class:`ServeError` naming the first port that cannot be bound.
    ``wanted``: (what, host, port), e.g. ("--port", "0.0.0.0", 8080)."""
    seen: dict[int, str] = {}
    for what, host, port in wanted:
        if not 1 <= port <= 65535:
            raise ServeError(f"port {port} ({what}) is outside 1..65535.")
        if port in seen:
            raise ServeError(f"port {port} is wanted twice: by {seen[port]} and by {what}.")
        seen[port] = what
        err = port_in_use(host, port)
        if err is None:
            continue
        if err.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} ({what}) is already in use by another "
                             f"program; stop it or choose another port with {what.split()[0]}.")
        if err.errno == errno.EACCES:
            raise ServeError(f"port {port} on {host} ({what}) needs privileges (ports below "
                             "1024 are reserved for root); choose a port of 1024 or above.")
        if err.errno == errno.EADDRNOTAVAIL:
            raise ServeError(f"{host} ({what}) is not an address of this machine.")
        raise ServeError(f"cannot listen on {host}:{port} ({what}): {err.strerror or err}.")


# ------------------------------------------------------------------------------------------
# Processes
# ------------------------------------------------------------------------------------------

try:
    _LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
except OSError:  # pragma: no cover
    _LIBC = None
_PR_SET_PDEATHSIG = 1


def _child_setup(parent: int):
    """Runs in each child before exec: SIGTERM when serve.py dies, even by SIGKILL (Linux);
    exit at once if it is already gone."""
    def setup():
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent:
                os._exit(1)
    return setup


def _print(text: str, out, lock: threading.Lock) -> None:
    """Print a line; a closed or broken output (a reader that went away) is ignored, so that
    the children's output is still drained and they never block on a full pipe."""
    with lock:
        try:
            print(text, file=out, flush=True)
        except (OSError, ValueError):
            pass


def _replicas(n: int) -> str:
    return f"{n} replica" + ("s" if n != 1 else "")


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


@dataclass
class Child:
    """A process serve.py started, in a process group of its own, its output read by a
    thread that prefixes each line with the child's name."""

    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    tail: collections.deque = field(default_factory=lambda: collections.deque(maxlen=30))
    quiet: tuple[str, ...] = ()

    def start(self, env: dict[str, str], out, lock: threading.Lock) -> None:
        self.tail.clear()
        self.proc = subprocess.Popen(
            self.argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1,
            # preexec_fn with threads alive: it only calls prctl and getppid (no locks, no
            # allocation), and children are started from the main thread only
            start_new_session=True, preexec_fn=_child_setup(os.getpid()))  # noqa: PLW1509
        threading.Thread(target=self._pump, args=(self.proc, out, lock), daemon=True,
                         name=f"output of {self.name}").start()

    def _pump(self, proc, out, lock) -> None:
        for line in proc.stdout:
            line = line.rstrip()
            self.tail.append(line)
            if line.strip() and not any(q in line for q in self.quiet):
                _print(f"[{self.name}] {line}", out, lock)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal_group(self, sig: int) -> None:
        """Send ``sig`` to the child's process group (itself and anything it started)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def last_output(self, n: int = 15) -> str:
        lines = list(self.tail)[-n:]
        return "\n".join(f"    {line}" for line in lines) if lines else "    (no output)"


@dataclass
class Replica(Child):
    port: int = 0
    cookie: str = ""
    state: str = "starting"  # starting, healthy, down (restart pending), stopped (given up)
    started_at: float = 0.0
    restart_at: float = 0.0
    exits: list[float] = field(default_factory=list)  # when it exited, for the restart policy
    down_since: float | None = None  # since when HAProxy has seen it down while it runs


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """Whether GET ``url`` answers 200 (direct, bypassing any HTTP proxy of the environment)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError, ValueError):
        return False


def haproxy_servers(socket_path: str, timeout: float = 2.0) -> dict[str, str]:
    """Each replica's status as HAProxy sees it ({"r1": "UP", "r2": "DOWN", ...}), read from
    its admin socket; {} when it does not answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(socket_path)
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return {}
    lines = data.decode(errors="replace").splitlines()
    if not lines or not lines[0].startswith("# "):
        return {}
    header = lines[0][2:].split(",")
    try:
        px, sv, st = header.index("pxname"), header.index("svname"), header.index("status")
    except ValueError:
        return {}
    out = {}
    for line in lines[1:]:
        cols = line.split(",")
        if len(cols) > st and cols[px] == BACKEND and cols[sv] not in ("FRONTEND", "BACKEND"):
            out[cols[sv]] = cols[st]
    return out


# ------------------------------------------------------------------------------------------
# The supervisor
# ------------------------------------------------------------------------------------------

class Stop(Exception):
    """A signal asked serve.py to stop (raised at a safe point, never inside the handler)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Server:
    """Starts, watches and stops the replicas and HAProxy (see the module's docstring)."""

    def __init__(self, args: argparse.Namespace, streamlit_args: list[str], haproxy: str,
                 out):
        self.args = args
        self.streamlit_args = streamlit_args
        self.haproxy_bin = haproxy
        self.out = out
        self.lock = threading.Lock()
        self.tmp = Path(tempfile.mkdtemp(prefix="conv-serve-"))
        self.socket_path = str(self.tmp / "admin.sock")
        self.config_path = self.tmp / "haproxy.cfg"
        ports = [args.base_port + i for i in range(args.replicas)]
        self.replicas = [
            Replica(name=f"r{i}", argv=self._replica_argv(p), port=p, cookie=f"r{i}",
                    quiet=BANNER)
            for i, p in enumerate(ports, 1)]
        self.haproxy = Child(name="haproxy", argv=[haproxy, "-db", "-f", str(self.config_path)])
        self.env = dict(os.environ, PYTHONUNBUFFERED="1")
        # one secret for all replicas (Streamlit signs its auth cookies with it), so that a
        # signed cookie stays valid on another replica; through the environment, not argv
        self.env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
        # glibc gives each thread that allocates its own heap and keeps what was freed there:
        # with two heaps, freed layers go back to the system and a replica stays near its byte
        # budget (bench/bench_lab_memory.py); it must be set before the process starts
        self.env.setdefault("MALLOC_ARENA_MAX", "2")
        self.ready = False
        self.stopping = False
        self.signalled: int | None = None  # set by the signal handler, acted on by the loops

    def request_stop(self, signum: int) -> None:
        """The signal handler's part: remember the signal; the loops stop at their next turn."""
        if self.signalled is None:
            self.signalled = signum

    def _check_stop(self) -> None:
        if self.signalled is not None and not self.stopping:
            raise Stop(self.signalled)

    def _sleep(self) -> None:
        self._check_stop()
        time.sleep(POLL)
        self._check_stop()

    # -- what to run ---------------------------------------------------------------------
    def _replica_argv(self, port: int) -> list[str]:
        if self.args.replica_cmd:
            return [a.format(port=port, address="127.0.0.1")
                    for a in shlex.split(self.args.replica_cmd)]
        # deploy/replica.py: imports and the engine's warm-up before the health check answers
        return [sys.executable, "-m", "deploy.replica", "run", self.args.app,
                "--server.port", str(port), "--server.address", "127.0.0.1",
                "--server.headless", "true", "--server.fileWatcherType", "none",
                "--server.runOnSave", "false", "--browser.gatherUsageStats", "false",
                *self.streamlit_args]

    @property
    def front_host(self) -> str:
        """An address of the front end to reach it from this machine."""
        bind = self.args.bind
        if bind in ("0.0.0.0", ""):
            return "127.0.0.1"
        if bind == "::":
            return "::1"
        return bind

    def url(self, host: str | None = None) -> str:
        host = host or self.front_host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.args.port}/"

    def say(self, text: str) -> None:
        _print(f"serve.py: {text}", self.out, self.lock)

    # -- the run -------------------------------------------------------------------------
    def run(self) -> int:
        """Start everything, wait until it serves, then supervise until a signal (raises
        :class:`Stop`) or a failure (raises :class:`ServeError`); the caller calls
        :meth:`shutdown` in every case."""
        self._check_config()
        self._pre_start()
        for r in self.replicas:
            self._start_replica(r)
        self._write_state()
        self._wait_healthy()
        # HAProxy last: its health checks then find every replica up from the start
        self._start_haproxy()
        self._wait_haproxy()
        self._announce()
        return self._supervise()

    def _check_config(self) -> None:
        self.config_path.write_text(haproxy_config(
            bind=self.args.bind, port=self.args.port, replica_ports=[r.port for r in self.replicas],
            stats_port=self.args.stats, socket_path=self.socket_path))
        check = subprocess.run([self.haproxy_bin, "-c", "-f", str(self.config_path)],
                               capture_output=True, text=True, errors="replace", check=False)
        if check.returncode != 0:
            raise ServeError(f"haproxy -c rejected the generated configuration "
                             f"({self.config_path}):\n{check.stdout}{check.stderr}")

    def _pre_start(self) -> None:
        if not self.args.pre_start:
            return
        self.say(f"running the pre-start command: {self.args.pre_start}")
        pre = Child(name="pre-start", argv=shlex.split(self.args.pre_start))
        pre.start(self.env, self.out, self.lock)
        try:
            while pre.running():
                self._sleep()
        finally:
            if pre.running():
                pre.signal_group(signal.SIGTERM)
                try:
                    pre.proc.wait(timeout=STOP_GRACE)
                except subprocess.TimeoutExpired:
                    pre.signal_group(signal.SIGKILL)
                    pre.proc.wait()
        code = pre.proc.returncode
        if code != 0:
            raise ServeError(f"the pre-start command failed ({_describe_exit(code)}): "
                             f"{self.args.pre_start}")

    def _start_haproxy(self) -> None:
        self.haproxy.start(self.env, self.out, self.lock)
        self.say(f"haproxy pid {self.haproxy.pid} on {_address(self.args.bind, self.args.port)}"
                 f" (configuration: {self.config_path})")
        self._write_state()

    def _start_replica(self, r: Replica) -> None:
        r.start(self.env, self.out, self.lock)
        r.state, r.started_at = "starting", time.monotonic()
        self.say(f"replica {r.name} pid {r.pid} on 127.0.0.1:{r.port} "
                 f"(cookie {cookie_name(self.args.port)}={r.cookie})")

    def _wait_healthy(self) -> None:
        """Every replica answers its health check (a replica that exits meanwhile is an
        error: at start-up that is a bug or a bad option, not bad luck)."""
        self.say(f"waiting for {_replicas(len(self.replicas))} to answer {HEALTH} "
                 f"(at most {self.args.ready_timeout:g} s)...")
        t0 = time.monotonic()
        while True:
            for r in self.replicas:
                if not r.running():
                    raise ServeError(
                        f"replica {r.name} (port {r.port}) exited during start-up "
                        f"({_describe_exit(r.proc.returncode)}). Its last output:\n"
                        f"{r.last_output()}")
                if r.state == "starting" and http_ok(f"http://127.0.0.1:{r.port}{HEALTH}"):
                    r.state = "healthy"
                    self._write_state()
                    self.say(f"replica {r.name} is healthy ({time.monotonic() - t0:.1f} s)")
            if all(r.state == "healthy" for r in self.replicas):
                return
            if time.monotonic() - t0 > self.args.ready_timeout:
                slow = [r for r in self.replicas if r.state != "healthy"]
                detail = "\n".join(f"  {r.name} (port {r.port}), its last output:\n"
                                   f"{r.last_output()}" for r in slow)
                raise ServeError(
                    f"{len(slow)} replica(s) did not answer {HEALTH} within "
                    f"{self.args.ready_timeout:g} s (raise --ready-timeout on a slow "
                    f"machine):\n{detail}")
            self._sleep()

    def _wait_haproxy(self) -> None:
        """HAProxy answers and sees every replica up."""
        t0 = time.monotonic()
        while True:
            self._check_haproxy()
            seen = haproxy_servers(self.socket_path)
            if seen and all(seen.get(r.name) == "UP" for r in self.replicas):
                return
            if time.monotonic() - t0 > self.args.ready_timeout:
                raise ServeError(f"HAProxy does not see every replica up after "
                                 f"{self.args.ready_timeout:g} s: {seen or 'no answer'}")
            self._sleep()

    def _announce(self) -> None:
        self.ready = True
        self._write_state()
        host = socket.gethostname() if self.args.bind in ("0.0.0.0", "::", "") else None
        lines = [f"ready: {_replicas(len(self.replicas))} behind HAProxy.",
                 f"  Open {self.url()}"]
        if host:
            lines.append(f"  Students on the network: {self.url(host)} (or this machine's "
                         f"address, port {self.args.port})")
        if self.args.stats is not None:
            lines.append(f"  HAProxy statistics: http://127.0.0.1:{self.args.stats}/")
        lines.append("  Ctrl-C (or SIGTERM) stops everything.")
        self.say("\n".join(lines))

    def _check_haproxy(self) -> None:
        if not self.haproxy.running():
            code = self.haproxy.proc.returncode if self.haproxy.proc else None
            raise ServeError(f"haproxy exited ({_describe_exit(code)}); stopping. Its last "
                             f"output:\n{self.haproxy.last_output()}")

    def _supervise(self) -> int:
        next_look = 0.0
        while True:
            self._check_haproxy()
            changed = False
            now = time.monotonic()
            for r in self.replicas:
                changed |= self._watch(r, now)
            if self.args.hang_timeout and now >= next_look:
                self._look_for_hangs(now)
                next_look = now + 2.0
            if changed:
                self._write_state()
            if all(r.state == "stopped" for r in self.replicas):
                self.say("no replica is left running; stopping.")
                return 1
            self._sleep()

    def _look_for_hangs(self, now: float) -> None:
        """Kill a replica that runs but that HAProxy has seen down for --hang-timeout s (it
        no longer answers its health check: hung); the restart policy takes over."""
        seen = haproxy_servers(self.socket_path)
        for r in self.replicas:
            if r.state != "healthy" or seen.get(r.name, "UP").startswith("UP"):
                r.down_since = None
                continue
            if r.down_since is None:
                r.down_since = now
            elif now - r.down_since > self.args.hang_timeout and r.running():
                self.say(f"replica {r.name} (pid {r.pid}) runs but has failed HAProxy's health "
                         f"checks for {self.args.hang_timeout:g} s; killing it.")
                r.signal_group(signal.SIGKILL)
                r.down_since = None

    def _watch(self, r: Replica, now: float) -> bool:
        """Follow one replica through its states; True when its state changed."""
        if r.state in ("starting", "healthy") and not r.running():
            r.exits = [t for t in r.exits if now - t < RESTART_WINDOW] + [now]
            what = (f"replica {r.name} (pid {r.pid}, port {r.port}) exited "
                    f"({_describe_exit(r.proc.returncode)}). "
                    + ("HAProxy sends its students to the other replicas; a reload gives "
                       "them back their settings from the URL."
                       if len(self.replicas) > 1 else
                       "Its students wait for it; a reload gives them back their settings "
                       "from the URL."))
            if len(r.exits) > self.args.max_restarts:
                r.state = "stopped"
                policy = ("--max-restarts 0" if self.args.max_restarts == 0 else
                          f"it exited {len(r.exits)} times in {RESTART_WINDOW / 60:g} minutes")
                self.say(f"{what} Not restarted ({policy}). Its last output:\n{r.last_output()}")
            else:
                delay = min(2.0 ** (len(r.exits) - 1), RESTART_DELAY_MAX)
                r.state, r.restart_at = "down", now + delay
                self.say(f"{what} Restarting it in {delay:g} s (restart {len(r.exits)} of at "
                         f"most {self.args.max_restarts} in {RESTART_WINDOW / 60:g} minutes).")
            return True
        if r.state == "down" and now >= r.restart_at:
            if port_in_use("127.0.0.1", r.port):
                r.restart_at = now + 2.0
                self.say(f"replica {r.name}: port {r.port} is still taken; retrying in 2 s.")
                return False
            self._start_replica(r)
            return True
        if r.state == "starting":
            if http_ok(f"http://127.0.0.1:{r.port}{HEALTH}", timeout=1.0):
                r.state = "healthy"
                self.say(f"replica {r.name} (pid {r.pid}) is healthy again; HAProxy puts it "
                         "back in rotation after two good checks.")
                return True
            if now - r.started_at > self.args.ready_timeout:
                self.say(f"replica {r.name} (pid {r.pid}) did not answer {HEALTH} within "
                         f"{self.args.ready_timeout:g} s; stopping it.")
                r.signal_group(signal.SIGKILL)
        return False

    # -- state file and stopping ---------------------------------------------------------
    def state(self) -> dict:
        return {
            "pid": os.getpid(),
            "ready": self.ready,
            "url": self.url(),
            "bind": self.args.bind,
            "port": self.args.port,
            "cookie": cookie_name(self.args.port),
            "stats": (f"http://127.0.0.1:{self.args.stats}/" if self.args.stats is not None
                      else None),
            "haproxy": {"pid": self.haproxy.pid, "config": str(self.config_path),
                        "socket": self.socket_path},
            "replicas": [{"name": r.name, "pid": r.pid, "port": r.port, "cookie": r.cookie,
                          "state": r.state, "restarts": len(r.exits)} for r in self.replicas],
        }

    def _write_state(self) -> None:
        if not self.args.state_file:
            return
        path = Path(self.args.state_file)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.state(), indent=2) + "\n")
        os.replace(tmp, path)

    def shutdown(self) -> None:
        """Stop every process started: SIGTERM to each process group (HAProxy first, so no new
        request reaches a stopping replica), wait up to STOP_GRACE s, then SIGKILL."""
        if self.stopping:
            return
        self.stopping = True
        children = [c for c in (self.haproxy, *self.replicas) if c.proc is not None]
        alive = [c for c in children if c.running()]
        if alive:
            self.say(f"stopping {len(alive)} processes: "
                     + ", ".join(f"{c.name} (pid {c.pid})" for c in alive))
        for c in children:  # groups too: a child's own children outlive it otherwise
            c.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for c in children:
            try:
                c.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{c.name} (pid {c.pid}) did not stop within {STOP_GRACE:g} s; "
                         "killing it.")
        for c in children:
            c.signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                c.proc.wait(timeout=5)
        if self.args.state_file:
            with contextlib.suppress(OSError):
                self._write_state_stopped()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _write_state_stopped(self) -> None:
        self.ready = False
        for r in self.replicas:
            r.state = "stopped"
        self._write_state()


# ------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python deploy/serve.py",
        description="Serve the app to a class: N Streamlit replicas behind HAProxy, with "
                    "cookie affinity (see this file's docstring).",
        allow_abbrev=False,
        epilog="Options of `streamlit run` (e.g. --server.maxUploadSize 50) may follow, or "
               "come after `--`. Needs haproxy (Debian/Ubuntu: apt-get install haproxy).")
    p.add_argument("--replicas", type=int, default=os.cpu_count() or 1,
                   help="Streamlit processes to run (default: one per core, here %(default)s)")
    p.add_argument("--port", type=int, default=8080, help="HAProxy's port (default %(default)s)")
    p.add_argument("--bind", default="0.0.0.0",
                   help="HAProxy's address (default %(default)s: every interface, so a class "
                        "on the network reaches it; 127.0.0.1 for this machine only)")
    p.add_argument("--base-port", type=int, default=None,
                   help="the first replica's port on 127.0.0.1, the others follow "
                        "(default: --port + 1)")
    p.add_argument("--stats", type=int, default=None, metavar="PORT",
                   help="serve HAProxy's statistics page on 127.0.0.1:PORT")
    p.add_argument("--haproxy", default=None, metavar="PATH",
                   help="the haproxy executable (default: from PATH or /usr/sbin)")
    p.add_argument("--app", default="app.py", help="the script, from the repository root "
                                                   "(default %(default)s)")
    p.add_argument("--max-restarts", type=int, default=5,
                   help="restart a replica that exits at most this many times in 10 minutes "
                        "(default %(default)s; 0: never restart)")
    p.add_argument("--ready-timeout", type=float, default=180.0, metavar="SECONDS",
                   help="how long a replica may take to answer its health check "
                        "(default %(default)s)")
    p.add_argument("--hang-timeout", type=float, default=120.0, metavar="SECONDS",
                   help="kill (and so restart) a running replica that has failed HAProxy's "
                        "health checks this long (default %(default)s; 0: never)")
    p.add_argument("--pre-start", default=None, metavar="CMD",
                   help="a command run once from the repository root before the replicas "
                        "start (e.g. a cache warm-up); serve.py stops if it fails")
    p.add_argument("--state-file", default=None, metavar="PATH",
                   help="keep a JSON description of the processes (pids, ports, cookie "
                        "values, states) in PATH")
    p.add_argument("--replica-cmd", default=None, metavar="CMD",
                   help="run CMD instead of `streamlit run` for each replica ({port} and "
                        "{address} are filled in); for tests")
    return p


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """(serve.py's options, the options passed on to `streamlit run`)."""
    parser = build_parser()
    if "--" in argv:
        i = argv.index("--")
        argv, passed = argv[:i], argv[i + 1:]
    else:
        passed = []
    args, unknown = parser.parse_known_args(argv)
    bad = [u for u in unknown if u.startswith("-") and "." not in u.split("=")[0]]
    if bad:
        parser.error(f"unknown option {bad[0]} (options of `streamlit run` look like "
                     "--server.maxUploadSize)")
    if unknown and not unknown[0].startswith("--"):
        parser.error(f"unexpected argument {unknown[0]!r}")
    passed = unknown + passed
    if args.replicas < 1:
        parser.error(f"--replicas must be 1 or more, not {args.replicas}")
    if args.max_restarts < 0:
        parser.error("--max-restarts must be 0 or more")
    if args.ready_timeout <= 0:
        parser.error("--ready-timeout must be positive")
    if args.hang_timeout < 0:
        parser.error("--hang-timeout must be 0 or more")
    if args.base_port is None:
        args.base_port = args.port + 1
    set_by_us = ("--server.port", "--server.address", "--server.headless",
                 "--server.fileWatcherType")
    clash = [a for a in passed if a.split("=")[0] in set_by_us]
    if clash and not args.replica_cmd:
        parser.error(f"{clash[0].split('=')[0]} is set by serve.py for each replica")
    return args, passed


def main(argv: list[str] | None = None, *, out=None, err=None) -> int:
    """The command; returns its exit status (``out``, ``err``: default sys.stdout, sys.stderr)."""
    out = out or sys.stdout
    err = err or sys.stderr
    args, streamlit_args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        haproxy = find_haproxy(args.haproxy)
        if haproxy is None:
            where = (f"{args.haproxy} is not an executable file" if args.haproxy else
                     "haproxy is not installed (not on PATH"
                     + (", nor in " + ", ".join(SBIN_DIRS) if SBIN_DIRS else "") + ")")
            raise ServeError(f"{where}. serve.py needs HAProxy in front of the replicas. "
                             + INSTALL_HINT)
        if not args.replica_cmd and not (ROOT / args.app).is_file():
            raise ServeError(f"{ROOT / args.app} not found (--app).")
        wanted = [("--port", args.bind, args.port)]
        wanted += [(f"--base-port (replica r{i + 1})", "127.0.0.1", args.base_port + i)
                   for i in range(args.replicas)]
        if args.stats is not None:
            wanted.append(("--stats", "127.0.0.1", args.stats))
        check_ports(wanted)
        server = Server(args, streamlit_args, haproxy, out=out)
    except ServeError as exc:
        print(f"serve.py: error: {exc}", file=err, flush=True)
        return 1

    def on_signal(signum, _frame):
        server.request_stop(signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        return server.run()
    except Stop as stop:
        server.say(f"{stop} received.")
        return 0
    except ServeError as exc:
        print(f"serve.py: error: {exc}", file=err, flush=True)
        return 1
    finally:  # every way out, an unexpected exception included
        server.shutdown()
        for s, h in old.items():
            signal.signal(s, h)
        server.say("stopped.")


if __name__ == "__main__":
    sys.exit(main())
