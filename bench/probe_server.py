"""``streamlit run`` with a probe: the benchmarks ask it for the process's CPU time (every
thread, exited ones included) and, optionally, profile each script run with cProfile.

Run: ``python bench/probe_server.py PROBE_PORT SCRIPT [streamlit run options...]``.

The probe is a line protocol on 127.0.0.1:PROBE_PORT: ``cpu`` answers the process's CPU
seconds (``time.process_time``), ``profile on`` / ``profile off`` start and stop profiling the
script runs, ``profile dump PATH`` writes the profiles gathered (pstats) and clears them,
``rss`` answers the resident set size in bytes, ``cache`` the byte budget's counters (JSON),
``uploads`` the bytes held by Streamlit's uploaded-file manager, ``lab_uploads`` those of the
lab's upload store (``ui/uploads.py``).
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import socketserver
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_profiles: list[cProfile.Profile] = []
_profiling = False
_lock = threading.Lock()


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _uploads() -> int:
    from streamlit import runtime

    if not runtime.exists():
        return 0
    mgr = runtime.get_instance().uploaded_file_mgr
    with mgr._lock:
        return sum(len(f.data) for files in mgr.file_storage.values() for f in files.values())


def _cache() -> str:
    cache = sys.modules.get("ui.cache")  # the app's, once it has imported it
    return json.dumps(cache.stats().as_dict()) if cache is not None else "{}"


class _Probe(socketserver.StreamRequestHandler):
    def handle(self):
        global _profiling
        for raw in self.rfile:
            cmd = raw.decode().strip().split(" ", 2)
            if cmd[0] == "cpu":
                out = repr(time.process_time())
            elif cmd[0] == "rss":
                out = str(_rss())
            elif cmd[0] == "uploads":
                out = str(_uploads())
            elif cmd[0] == "lab_uploads":
                mod = sys.modules.get("ui.uploads")
                out = str(mod.bytes_held() if mod is not None else 0)
            elif cmd[0] == "cache":
                out = _cache()
            elif cmd[:2] == ["profile", "on"]:
                _profiling = True
                out = "ok"
            elif cmd[:2] == ["profile", "off"]:
                _profiling = False
                out = "ok"
            elif cmd[:2] == ["profile", "dump"]:
                with _lock:
                    profiles, _profiles[:] = list(_profiles), []
                if profiles:
                    stats = pstats.Stats(profiles[0])
                    for p in profiles[1:]:
                        stats.add(p)
                    stats.dump_stats(cmd[2])
                out = str(len(profiles))
            else:
                out = "?"
            self.wfile.write((out + "\n").encode())
            self.wfile.flush()


def _patch_script_runner() -> None:
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.ScriptRunner._run_script

    def run(self, rerun_data):
        if not _profiling:
            return original(self, rerun_data)
        prof = cProfile.Profile(time.thread_time)
        try:
            return prof.runcall(original, self, rerun_data)
        finally:
            with _lock:
                _profiles.append(prof)

    script_runner.ScriptRunner._run_script = run


def main() -> None:
    port, script, *options = sys.argv[1:]
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", int(port)), _Probe)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.path.insert(0, str(ROOT))
    _patch_script_runner()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", script, *options]
    cli.main()


if __name__ == "__main__":
    main()
