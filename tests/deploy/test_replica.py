"""deploy/replica.py: a replica imports the pages' modules and starts the engine's warm-up
before Streamlit answers its health check."""

import pkgutil
import subprocess
import sys
from pathlib import Path

from conv import warm
from deploy import replica

ROOT = Path(__file__).resolve().parents[2]


def test_preload_imports_every_module_of_the_pages_and_starts_the_warm_up(monkeypatch):
    started = []
    monkeypatch.setattr(warm, "start_background", lambda: started.append(True))  # no compiling
    names = replica.preload()
    assert started == [True]
    for package in replica.PACKAGES:
        on_disk = {f"{package}.{m.name}" for m in pkgutil.iter_modules([str(ROOT / package)])}
        assert on_disk - replica.SKIP <= set(names), package
    assert "ui.lab_result" in names and "kernels.train_lenet" not in names


def test_a_replica_runs_the_streamlit_command():
    """The arguments after the module are the `streamlit` command's own."""
    done = subprocess.run([sys.executable, "-m", "deploy.replica", "version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={"CONVVIZ_WARM": "0", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "Streamlit, version" in done.stdout
