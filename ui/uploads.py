"""Uploaded photos: one copy of each, released with its session.

Streamlit keeps every uploaded file's bytes in its uploaded-file manager for as long as the
session lives, and, in 1.67 still, forever after a closed tab's session expires: its session
storage drops an expired disconnected session without shutting it down, and only the shutdown
removes the session's files (streamlit #12506). So a page that has read an upload takes its
bytes (:func:`take`): they move into this module's store, one upload per session, and the
manager forgets them. The file uploader then returns ``None`` on later runs (Streamlit treats
the file as deleted on the server; the browser still shows its name), so the page keeps what
it needs in the session state: the file's digest and name.

The store keeps the *compressed* bytes (a JPEG is about a tenth of its decoded pixels): the
decoded image lives in the byte budget (``ui/cache.py``) under the file's SHA-256 and is
decoded again from here if the budget dropped it.

A sweep (a daemon thread, every ``TTL / 4`` seconds at most 30) frees what a closed tab left:
once a session has been inactive for the disconnect grace period
(``server.disconnectedSessionTTL``, 120 s by default; after it Streamlit cannot resume the
session), its stored upload, the manager's files and its media references go, and so do the
results computed from its photo (``ui/cache.py``) when no other session holds the same photo:
nobody can ask for them again. The same thread drops what the byte budget holds that nobody
has used for a while (``cache.expire``), so that a server a class has left returns to its idle
memory.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from streamlit import config, runtime
from streamlit.logger import get_logger
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from ui import cache

__all__ = ["Upload", "bytes_held", "get", "release", "session_id", "sweep", "take"]


@dataclass(frozen=True)
class Upload:
    digest: str   # SHA-256 of the bytes, hex
    name: str     # the file's name as uploaded ("IMG_1234.jpg", "webcam photo")
    data: bytes   # the file as uploaded (compressed)

    @property
    def nbytes(self) -> int:
        return len(self.data)


_STORE: dict[str, Upload] = {}           # session id -> its current upload
_SESSIONS: dict[str, float] = {}         # session ids seen -> when first seen inactive (0: active)
_LOCK = threading.Lock()
_sweeper: threading.Thread | None = None


def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def take(file, *, name: str | None = None, digests: dict | None = None) -> Upload:
    """The upload ``file`` (an ``UploadedFile`` of ``st.file_uploader`` or
    ``st.camera_input``) as an :class:`Upload` (called ``name``, by default the file's name),
    its bytes released from Streamlit's uploaded-file manager. ``digests``: file id -> digest,
    so a file is hashed once."""
    data = file.getvalue()  # the manager's own bytes object (BytesIO shares it): no copy
    digest = digests.get(file.file_id) if digests is not None else None
    if digest is None:
        digest = hashlib.sha256(data).hexdigest()
        if digests is not None:
            digests[file.file_id] = digest
    release(file)
    return Upload(digest, name or file.name, data)


def keep(upload: Upload) -> None:
    """Make ``upload`` this session's photo (the one copy of its bytes)."""
    sid = session_id()
    with _LOCK:
        _STORE[sid] = upload
        _SESSIONS.setdefault(sid, 0.0)
    _start_sweeper()


def get(sid: str, digest: str) -> Upload | None:
    """The session's upload if it is the file with this digest."""
    with _LOCK:
        up = _STORE.get(sid)
    return up if up is not None and up.digest == digest else None


def release(file) -> None:
    """Remove ``file``'s bytes from Streamlit's uploaded-file manager (this session's)."""
    ctx = get_script_run_ctx()
    if ctx is None or getattr(file, "file_id", None) is None:
        return
    ctx.uploaded_file_mgr.remove_file(ctx.session_id, file.file_id)


def bytes_held() -> int:
    """Bytes of the uploads stored here (for the benchmarks)."""
    with _LOCK:
        return sum(len(u.data) for u in _STORE.values())


def note_session() -> None:
    """Record that this session used the page (its media references are cleared with the
    rest once it is gone)."""
    sid = session_id()
    if sid:
        with _LOCK:
            _SESSIONS[sid] = 0.0
        _start_sweeper()


def sweep(now: float | None = None, *, rt=None, ttl: float | None = None) -> list[str]:
    """Free what sessions inactive for the grace period left; returns their ids."""
    if rt is None:
        if not runtime.exists():
            return []
        rt = runtime.get_instance()
    if ttl is None:
        ttl = float(config.get_option("server.disconnectedSessionTTL"))
    now = time.monotonic() if now is None else now
    files = getattr(rt.uploaded_file_mgr, "file_storage", {})
    with _LOCK:
        ids = set(_SESSIONS) | set(_STORE) | set(files)
    gone = []
    for sid in ids:
        if rt.is_active_session(sid):
            with _LOCK:
                _SESSIONS[sid] = 0.0
            continue
        with _LOCK:
            since = _SESSIONS.get(sid) or now
            _SESSIONS[sid] = since
        if now - since < ttl:
            continue
        with _LOCK:
            upload = _STORE.pop(sid, None)
            _SESSIONS.pop(sid, None)
            orphan = upload is not None and all(u.digest != upload.digest
                                                for u in _STORE.values())
        if orphan:
            cache.forget(upload.digest)
        rt.uploaded_file_mgr.remove_session_files(sid)
        rt.media_file_mgr.clear_session_refs(sid)
        gone.append(sid)
    if gone:
        rt.media_file_mgr.remove_orphaned_files()
    return gone


def _start_sweeper() -> None:
    """The sweep's thread, once per process, in a real server only (not under AppTest, whose
    runtime is a stand-in)."""
    global _sweeper
    if _sweeper is not None or not runtime.exists():
        return
    rt = runtime.get_instance()
    if not isinstance(getattr(rt, "uploaded_file_mgr", None), MemoryUploadedFileManager):
        return
    with _LOCK:
        if _sweeper is not None:
            return
        ttl = float(config.get_option("server.disconnectedSessionTTL"))
        _sweeper = threading.Thread(target=_sweep_forever, args=(max(1.0, min(30.0, ttl / 4)),),
                                    name="convviz-upload-sweep", daemon=True)
        _sweeper.start()


def _sweep_forever(interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            sweep()
            cache.expire()
        except Exception:  # noqa: BLE001 - a failed sweep must not end the thread
            get_logger(__name__).warning("upload sweep failed", exc_info=True)
