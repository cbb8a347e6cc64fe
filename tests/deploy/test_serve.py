"""deploy/serve.py: the generated HAProxy configuration, the command line's errors, and the
supervisor with stand-in replicas (tests/deploy/fake_replica.py) behind a real HAProxy:
affinity, a dead replica's requests moved to a live one, restarts, stopping everything."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys

import pytest

from deploy import serve
from tests.deploy.helpers import (
    FAKE,
    SERVE,
    Served,
    free_ports,
    get,
    gone,
    group_gone,
    haproxy_or_missing,
    wait_until,
)

FAKE_CMD = f"{sys.executable} {FAKE} {{port}}"


# ------------------------------------------------------------------------------------------
# The configuration
# ------------------------------------------------------------------------------------------

def _config(**kw) -> str:
    args = {"bind": "0.0.0.0", "port": 8080, "replica_ports": [8081, 8082]}
    return serve.haproxy_config(**{**args, **kw})


def _directives(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_config_keeps_a_browser_on_its_replica_by_an_inserted_cookie():
    d = _directives(_config())
    assert "cookie conv_replica_8080 insert indirect nocache httponly attr SameSite=Lax" in d
    assert "server r1 127.0.0.1:8081 cookie r1" in d
    assert "server r2 127.0.0.1:8082 cookie r2" in d
    assert "balance leastconn" in d
    # never by the client's address: one campus NAT would put the whole class on one replica
    assert not any(x.startswith(("balance source", "stick on src", "stick-table")) for x in d)
    assert "bind 0.0.0.0:8080" in d
    # browsers scope cookies by host, not port: another port, another cookie
    assert "cookie conv_replica_9090 insert" in " ".join(_directives(_config(port=9090)))


def test_the_config_checks_health_and_moves_a_dead_replicas_requests():
    d = _directives(_config())
    assert "option httpchk" in d
    assert "http-check send meth GET uri /_stcore/health" in d
    assert "http-check expect status 200" in d
    assert any(x.startswith("default-server check ") for x in d)
    assert "option redispatch 1" in d
    assert "retry-on conn-failure empty-response" in d  # a pooled connection to a dead one
    assert any(x.startswith("retries ") and int(x.split()[1]) >= 1 for x in d)


def test_the_config_gives_websockets_a_long_tunnel_timeout():
    d = _directives(_config())
    assert "timeout tunnel 1h" in d
    assert "mode http" in d  # HTTP mode: the websocket upgrade and the cookie both work
    # a keep-alive mode that would break websockets is not forced
    assert not any(x.startswith(("option httpclose", "option forceclose")) for x in d)


def test_the_stats_page_only_when_asked_and_only_on_loopback():
    assert "listen stats" not in _config()
    d = _directives(_config(stats_port=8099))
    assert "listen stats" in d and "bind 127.0.0.1:8099" in d and "stats enable" in d


def test_haproxy_accepts_the_generated_config(tmp_path):
    haproxy = haproxy_or_missing()
    for kw in ({}, {"stats_port": 8099, "socket_path": str(tmp_path / "admin.sock")},
               {"replica_ports": list(range(8101, 8109)), "bind": "127.0.0.1"}):
        cfg = tmp_path / "haproxy.cfg"
        cfg.write_text(_config(**kw))
        check = subprocess.run([haproxy, "-c", "-f", str(cfg)], capture_output=True, text=True,
                               check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "warning" not in (check.stdout + check.stderr).lower(), check.stdout + check.stderr


# ------------------------------------------------------------------------------------------
# The command line and its errors
# ------------------------------------------------------------------------------------------

def test_streamlit_options_are_passed_through():
    args, passed = serve.parse_args(["--replicas", "3", "--port", "9000",
                                     "--server.maxUploadSize", "50", "--", "--theme.base", "dark"])
    assert (args.replicas, args.port, args.base_port) == (3, 9000, 9001)
    assert passed == ["--server.maxUploadSize", "50", "--theme.base", "dark"]


def test_the_default_is_one_replica_per_core():
    args, _ = serve.parse_args([])
    assert args.replicas == (os.cpu_count() or 1)
    assert args.bind == "0.0.0.0"


@pytest.mark.parametrize("argv, message", [
    (["--replicas", "0"], "--replicas must be 1 or more"),
    (["--frobnicate"], "unknown option --frobnicate"),
    (["--server.port", "9"], "--server.port is set by serve.py"),
    (["--rep", "2"], "unknown option --rep"),
])
def test_bad_arguments_exit_with_a_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        serve.parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def _fake_haproxy(tmp_path) -> str:
    """An executable named haproxy (never run by the tests that use it)."""
    path = tmp_path / "bin" / "haproxy"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_find_haproxy_on_path_then_in_sbin(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert serve.find_haproxy(path=str(empty), extra_dirs=()) is None
    fake = _fake_haproxy(tmp_path)
    assert serve.find_haproxy(path=f"{empty}:{os.path.dirname(fake)}", extra_dirs=()) == fake
    assert serve.find_haproxy(path=str(empty), extra_dirs=(os.path.dirname(fake),)) == fake
    assert serve.find_haproxy(str(tmp_path / "nope")) is None
    assert serve.find_haproxy(fake) == fake


def test_haproxy_missing_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(serve, "SBIN_DIRS", ())  # /usr/sbin/haproxy may exist here
    assert serve.find_haproxy() is None
    # were haproxy found after all, the missing app stops it before anything starts
    code = serve.main(["--port", str(free_ports(3)), "--bind", "127.0.0.1",
                       "--app", "no_such_app.py"])
    err = capsys.readouterr().err
    assert code == 1
    assert "haproxy is not installed" in err and "apt-get install haproxy" in err


def test_haproxy_missing_from_the_command_line(tmp_path):
    """The real command, with a fake PATH and a --haproxy that does not exist: exit 1 and the
    message, nothing started."""
    run = subprocess.run([sys.executable, str(SERVE), "--haproxy", str(tmp_path / "haproxy")],
                         capture_output=True, text=True, timeout=60, check=False,
                         env=dict(os.environ, PATH=str(tmp_path)))
    assert run.returncode == 1
    assert "is not an executable file" in run.stderr and "apt-get install haproxy" in run.stderr
    assert "stopping" not in run.stdout


@pytest.mark.parametrize("taken, option", [(0, "--port"), (1, "--base-port"), (3, "--stats")])
def test_a_port_in_use_is_named(tmp_path, capsys, taken, option):
    port = free_ports(4)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT is not "taken"
        s.bind(("127.0.0.1", port + taken))
        s.listen()
        code = serve.main(["--port", str(port), "--bind", "127.0.0.1", "--replicas", "2",
                           "--stats", str(port + 3), "--haproxy", _fake_haproxy(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert f"port {port + taken} on 127.0.0.1" in err and "already in use" in err
    assert option in err


def test_the_same_port_twice_is_refused(tmp_path, capsys):
    port = free_ports(3)
    code = serve.main(["--port", str(port), "--bind", "127.0.0.1", "--replicas", "2",
                       "--stats", str(port + 2), "--haproxy", _fake_haproxy(tmp_path)])
    assert code == 1
    assert f"port {port + 2} is wanted twice" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------
# The supervisor, with stand-in replicas behind a real HAProxy
# ------------------------------------------------------------------------------------------

@pytest.fixture()
def served(tmp_path):
    haproxy_or_missing()
    started = []

    def start(*args, **kw):
        s = Served(tmp_path, *args, **kw)
        started.append(s)
        return s
    yield start
    for s in started:
        s.kill_all()


def _cookie(set_cookie: str | None, name: str) -> str | None:
    """The value of the affinity cookie ``name`` in a Set-Cookie header."""
    if not set_cookie or not set_cookie.startswith(f"{name}="):
        return None
    return set_cookie.split(";")[0].split("=", 1)[1]


@pytest.mark.slow
def test_affinity_redispatch_restart_and_stop(served):
    s = served("--replica-cmd", FAKE_CMD, stats=True)
    st = s.wait_ready()
    r1, r2 = st["replicas"]
    assert "ready:" in s.output() and s.url + "/" in s.output()
    name = st["cookie"]
    assert name == f"conv_replica_{s.port}"  # its own cookie: another port has another

    # a new browser gets a cookie naming a replica; the cookie then decides
    status, body, set_cookie = get(s.url + "/")
    assert status == 200 and _cookie(set_cookie, name) in ("r1", "r2")
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    for r in (r1, r2):
        for path in ("/", "/_stcore/upload_file/x", "/media/x.png", "/app/static/plotly.min.js"):
            status, body, set_cookie = get(s.url + path, cookie=f"{name}={r['cookie']}")
            expected = (200, f"port={r['port']} pid={r['pid']}", None)
            assert (status, body, set_cookie) == expected

    # r1 dies: a request carrying its cookie is served by r2, with r2's cookie
    os.kill(r1["pid"], signal.SIGKILL)
    status, body, set_cookie = get(s.url + "/", cookie=f"{name}=r1")
    assert status == 200 and body == f"port={r2['port']} pid={r2['pid']}"
    assert _cookie(set_cookie, name) == "r2"
    # ... serve.py says so, and starts it again
    wait_until("r1 restarted", lambda: s.replica("r1")["pid"] != r1["pid"]
               and s.replica("r1")["state"] == "healthy")
    assert s.replica("r1")["restarts"] == 1
    said = f"replica r1 (pid {r1['pid']}, port {r1['port']}) exited (killed by SIGKILL)"
    assert said in s.output()
    assert "Restarting it in 1 s" in s.output()
    new = s.replica("r1")["pid"]
    wait_until("HAProxy to send r1's cookie to the new r1",
               lambda: get(s.url + "/", cookie=f"{name}=r1")[1] == f"port={r1['port']} pid={new}")

    # SIGTERM: everything it started stops, and it exits 0
    pids = s.pids()
    assert len(pids) == 3
    assert s.stop() == 0
    for pid in pids:
        assert gone(pid), pid
        assert group_gone(pid), pid  # each child led its own process group
    assert "SIGTERM received" in s.output() and s.output().rstrip().endswith("stopped.")
    assert s.state()["ready"] is False


@pytest.mark.slow
def test_without_restarts_the_last_replica_gone_stops_serve(served):
    s = served("--replica-cmd", FAKE_CMD, "--max-restarts", "0")
    st = s.wait_ready()
    r1, r2 = st["replicas"]
    os.kill(r1["pid"], signal.SIGKILL)
    wait_until("r1 reported", lambda: s.replica("r1")["state"] == "stopped")
    assert "Not restarted (--max-restarts 0)" in s.output()
    assert get(s.url + "/", cookie=f"{st['cookie']}=r1")[1] == f"port={r2['port']} pid={r2['pid']}"
    os.kill(r2["pid"], signal.SIGKILL)
    assert s.proc.wait(timeout=60) == 1
    assert "no replica is left running; stopping." in s.output()
    assert gone(st["haproxy"]["pid"])


@pytest.mark.slow
def test_a_replica_that_fails_to_start_is_reported_with_its_output(served):
    s = served("--replica-cmd", f"{sys.executable} -c \"print('no such module: boom'); exit(3)\"")
    assert s.proc.wait(timeout=60) == 1
    out = s.output()
    assert "exited during start-up (exit code 3)" in out and "no such module: boom" in out


@pytest.mark.slow
def test_a_replica_that_never_answers_is_reported(served):
    s = served("--replica-cmd", f"{FAKE_CMD} --slow-start 600", "--ready-timeout", "2")
    assert s.proc.wait(timeout=60) == 1
    out = s.output()
    assert "did not answer /_stcore/health within 2 s" in out and "--ready-timeout" in out
    assert all(gone(p) for p in s.pids())


@pytest.mark.slow
def test_a_failing_pre_start_command_stops_before_any_replica(served):
    s = served("--replica-cmd", FAKE_CMD, "--pre-start", f"{sys.executable} -c \"exit(4)\"")
    assert s.proc.wait(timeout=60) == 1
    assert "the pre-start command failed (exit code 4)" in s.output()
    assert "replica r1 pid" not in s.output()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_children_stop_when_serve_is_killed_outright(served):
    s = served("--replica-cmd", FAKE_CMD)
    s.wait_ready()
    pids = s.pids()
    s.proc.kill()  # SIGKILL: no clean-up of its own
    s.proc.wait()
    for pid in pids:
        wait_until(f"pid {pid} to stop", lambda pid=pid: gone(pid), timeout=30)
