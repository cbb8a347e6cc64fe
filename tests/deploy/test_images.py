"""deploy/Dockerfile and deploy/kubernetes.yaml, checked as text (no Docker engine or cluster
in CI): the image holds everything the app imports and reads, runs as a non-root user with a
health check; the manifest probes /_stcore/health and pins a browser to its pod by a cookie,
with websocket and upload limits fit for a class."""

from __future__ import annotations

import re

from tests.e2e.harness import ROOT

DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()
MANIFEST = (ROOT / "deploy" / "kubernetes.yaml").read_text()


def _copied() -> set[str]:
    """The top-level files and directories the Dockerfile copies into the image."""
    return {m.group(1).strip("/") for m in re.finditer(r"^COPY (\S+) ", DOCKERFILE, re.MULTILINE)}


def _local_imports(path) -> set[str]:
    """Top-level names of this repository's packages imported by one file."""
    local = {p.name for p in ROOT.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    names = re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", path.read_text(), re.MULTILINE)
    return set(names) & local


def test_the_image_holds_every_package_the_app_imports():
    copied = _copied()
    app = (ROOT / "app.py").read_text()
    pages = [ROOT / p for p in re.findall(r'"([\w/]+\.py)"', app)]  # st.Page("ui/pages/x.py")
    assert pages and all(p.is_file() for p in pages)
    assert {p.relative_to(ROOT).parts[0] for p in pages} <= copied
    todo, seen = [ROOT / "app.py", *pages], set()
    while todo:
        path = todo.pop()
        for package in _local_imports(path) - seen:
            seen.add(package)
            assert package in copied, f"{path.relative_to(ROOT)} imports {package}/, not copied"
            todo += list((ROOT / package).rglob("*.py"))
    assert {"ui", "conv", "kernels", "viz"} <= seen


def test_the_image_holds_what_the_app_reads():
    # the config (static serving for plotly.js), the photos, weights and icon, plotly.js
    assert {"app.py", ".streamlit", "assets", "static", "requirements.txt"} <= _copied()
    assert not _copied() & {"tests", "bench", "docs", ".git"}


def test_the_image_runs_one_replica_as_a_user_with_a_health_check():
    assert "FROM python:3.11-slim" in DOCKERFILE
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in DOCKERFILE and "/_stcore/health" in DOCKERFILE
    assert "EXPOSE 8501" in DOCKERFILE and "--server.port=8501" in DOCKERFILE
    assert "--server.address=0.0.0.0" in DOCKERFILE and "--server.headless=true" in DOCKERFILE
    assert "NUMBA_CACHE_DIR=/app/.numba-cache" in DOCKERFILE and "python -m conv.warm" in DOCKERFILE
    assert 'chown -R app "$NUMBA_CACHE_DIR"' in DOCKERFILE  # the compiled loops, the app's own
    # exec form: SIGTERM reaches it
    assert 'CMD ["python", "-m", "deploy.replica", "run", "app.py"' in DOCKERFILE


def _annotation(name: str) -> str:
    m = re.search(rf'^\s*nginx\.ingress\.kubernetes\.io/{re.escape(name)}:\s*"([^"]*)"',
                  MANIFEST, re.MULTILINE)
    assert m, f"annotation {name} missing"
    return m.group(1)


def test_the_ingress_pins_a_browser_to_its_pod_by_a_cookie():
    assert _annotation("affinity") == "cookie"
    assert _annotation("affinity-mode") == "persistent"
    assert _annotation("session-cookie-name") == "conv_replica"
    assert _annotation("session-cookie-path") == "/"
    assert int(_annotation("session-cookie-max-age")) >= 3600
    assert _annotation("session-cookie-change-on-failure") == "true"


def test_the_ingress_keeps_websockets_open_and_takes_uploads():
    assert int(_annotation("proxy-read-timeout")) >= 3600
    assert int(_annotation("proxy-send-timeout")) >= 3600
    assert _annotation("proxy-body-size") == "200m"  # Streamlit's server.maxUploadSize


def test_the_pods_are_probed_on_streamlits_health_endpoint():
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        block = MANIFEST.split(f"{probe}:", 1)[1].split("Probe:", 1)[0]
        assert "path: /_stcore/health" in block, probe
    assert "containerPort: 8501" in MANIFEST
    assert re.search(r"requests:\s*\n\s*cpu: \"1\"", MANIFEST)  # one replica per core
    assert "runAsNonRoot: true" in MANIFEST
