"""The filter lab's memory: uploads released from Streamlit once decoded (the photo keeps
showing), what a closed tab left freed after the grace period, and every cache in the byte
budget (nothing the page keeps holds pixels of its own)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import DeletedFile, UploadedFileRec
from streamlit.testing.v1 import AppTest, local_script_runner

from ui import cache, lab_result, uploads

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = "ui/pages/filter_lab.py"
ASTRONAUT = (ROOT / "assets" / "photos" / "astronaut.png").read_bytes()  # 512 x 512, colour
ROCKET = (ROOT / "assets" / "photos" / "rocket.jpg").read_bytes()        # 640 x 427 JPEG


class _Managers:
    """Streamlit's uploaded-file manager as a browser uses it: a file's bytes arrive once (the
    upload), later runs only name it. AppTest registers the bytes again before every run."""

    def __init__(self):
        self.made: list[MemoryUploadedFileManager] = []
        self.added: set[str] = set()
        owner = self

        class Once(MemoryUploadedFileManager):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                owner.made.append(self)

            def add_file(self, session_id, file):
                if file.file_id in owner.added:
                    return
                owner.added.add(file.file_id)
                super().add_file(session_id, file)

        self.cls = Once

    def held(self) -> int:
        """Bytes the last run's manager still holds."""
        mgr = self.made[-1]
        return sum(len(f.data) for files in mgr.file_storage.values() for f in files.values())


@pytest.fixture
def managers(monkeypatch):
    m = _Managers()
    monkeypatch.setattr(local_script_runner, "MemoryUploadedFileManager", m.cls)
    return m


def _open() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()  # "/" switches to the filter lab (app.py); later runs go to it directly
    return at.switch_page(PAGE)


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def captions(at: AppTest) -> str:
    return " | ".join(c.value for c in at.caption)


def test_an_upload_is_released_once_decoded_and_keeps_showing(managers):
    at = ok(_open())
    at.pills(key="lab.src").set_value("Upload").run()
    at.file_uploader(key="lab.file").set_value(("astronaut.png", ASTRONAUT, "image/png"))
    ok(at.run())
    assert managers.added, "the upload reached the manager"
    assert managers.held() == 0  # its bytes left Streamlit's manager once decoded
    assert "**astronaut.png**" in captions(at)
    # later runs: the browser names the file, the server no longer has it; the photo stays
    at.pills(key="lab.colour").set_value("channels").run()
    ok(at)
    # Streamlit: "deleted on the server" (the script gets None; the browser shows the name)
    assert isinstance(at.file_uploader(key="lab.file").value, (type(None), DeletedFile))
    assert "**astronaut.png**" in captions(at) and "512 x 512" in captions(at)
    assert not at.warning, [w.value for w in at.warning]
    # the one copy of the bytes: the session's store, the compressed file
    up = uploads.get("test session id", at.session_state["lab.upload"][0])
    assert up is not None and up.data == ASTRONAUT


def test_a_dropped_photo_is_decoded_again_from_the_kept_bytes(managers):
    at = ok(_open())
    at.pills(key="lab.src").set_value("Upload").run()
    at.file_uploader(key="lab.file").set_value(("rocket.jpg", ROCKET, "image/jpeg"))
    ok(at.run())
    digest = at.session_state["lab.upload"][0]
    cache.CACHE.clear()  # the budget dropped everything, the decoded photo included
    at.pills(key="lab.res").set_value("512").run()
    ok(at)
    assert "**rocket.jpg**" in captions(at) and "512 x 342" in captions(at)
    assert cache.get(("lab.upload", digest)) is not None


def test_a_photo_whose_bytes_are_gone_falls_back_to_the_sample(managers, monkeypatch):
    at = ok(_open())
    at.pills(key="lab.src").set_value("Upload").run()
    at.file_uploader(key="lab.file").set_value(("rocket.jpg", ROCKET, "image/jpeg"))
    ok(at.run())
    cache.CACHE.clear()
    monkeypatch.setattr(uploads, "_STORE", {})  # as after a sweep
    at.pills(key="lab.res").set_value("512").run()
    ok(at)
    assert any("no longer held by the server" in w.value for w in at.warning)
    assert "Chelsea" in captions(at)


def test_a_bad_upload_is_released_too(managers):
    at = ok(_open())
    at.pills(key="lab.src").set_value("Upload").run()
    at.file_uploader(key="lab.file").set_value(("notes.png", b"not an image at all", "image/png"))
    ok(at.run())
    assert at.error and managers.held() == 0


def test_the_session_state_and_the_fragment_hold_no_pixels():
    """What outlives a run (the session state, the figures fragment's arguments) is outside
    the byte budget: it must hold no image."""
    at = ok(_open())
    state = at.session_state.to_dict()
    assert {k: cache.sizeof(v) for k, v in state.items() if cache.sizeof(v) > 100_000} == {}
    fragments = at._fragment_storage._fragments
    assert fragments
    for f in fragments.values():  # a fragment keeps the arguments of its last call
        held = [c.cell_contents for c in f.__closure__ or ()]
        assert cache.sizeof(held) < 100_000
    assert state["shared.lab_image"].rgb.shape == (300, 451, 3)  # fetched when asked for


def test_layer_result_and_its_pictures_are_charged_to_the_budget():
    ok(_open())
    s = cache.stats()
    assert s.entries > 5 and 0 < s.used <= s.budget
    layers = [v for k, (v, _) in cache.CACHE._entries.items()
              if k[0] == "lab.layer"]
    assert layers and all(isinstance(v, lab_result.LabResult) for v in layers)
    # nothing stored grows afterwards: the charge is a fresh measurement's (to a few
    # object headers: Python resizes a dict's table now and then)
    for key, (value, size) in list(cache.CACHE._entries.items()):
        assert cache.sizeof(value) <= size + 1024, key


# --------------------------------------------------------------------------------------------
# The sweep of closed tabs
# --------------------------------------------------------------------------------------------

class _Runtime:
    """The parts of Streamlit's runtime the sweep uses."""

    def __init__(self, active: set[str]):
        self.active = active
        self.uploaded_file_mgr = MemoryUploadedFileManager("/upload")
        self.media_cleared: list[str] = []
        self.orphans_removed = 0
        rt = self

        class Media:
            def clear_session_refs(self, sid):
                rt.media_cleared.append(sid)

            def remove_orphaned_files(self):
                rt.orphans_removed += 1

        self.media_file_mgr = Media()

    def is_active_session(self, sid: str) -> bool:
        return sid in self.active


def test_sweep_frees_a_closed_tab_after_the_grace_period(monkeypatch):
    monkeypatch.setattr(uploads, "_STORE", {"open": uploads.Upload("a", "a.png", b"x" * 10),
                                            "closed": uploads.Upload("b", "b.png", b"y" * 10)})
    monkeypatch.setattr(uploads, "_SESSIONS", {"open": 0.0, "closed": 0.0})
    rt = _Runtime(active={"open"})
    for sid in ("open", "closed", "never-ran"):  # an upload whose page never read it
        rt.uploaded_file_mgr.add_file(sid, UploadedFileRec(f"f-{sid}", "p.png", "image/png",
                                                           b"z" * 100))
    assert uploads.sweep(1000.0, rt=rt, ttl=120) == []  # closed seen inactive: its clock starts
    assert uploads.sweep(1100.0, rt=rt, ttl=120) == []  # still within the grace period
    assert sorted(uploads.sweep(1120.0, rt=rt, ttl=120)) == ["closed", "never-ran"]
    assert set(rt.uploaded_file_mgr.file_storage) == {"open"}
    assert set(uploads._STORE) == {"open"}
    assert sorted(rt.media_cleared) == ["closed", "never-ran"] and rt.orphans_removed == 1


def test_sweep_keeps_a_tab_that_reconnects(monkeypatch):
    monkeypatch.setattr(uploads, "_STORE", {"s": uploads.Upload("a", "a.png", b"x")})
    monkeypatch.setattr(uploads, "_SESSIONS", {"s": 0.0})
    rt = _Runtime(active=set())
    uploads.sweep(0.0, rt=rt, ttl=120)           # disconnected...
    rt.active.add("s")
    uploads.sweep(100.0, rt=rt, ttl=120)         # ...and back within the grace period
    rt.active.clear()
    assert uploads.sweep(200.0, rt=rt, ttl=120) == []  # its clock started again at 200
    assert uploads.sweep(320.0, rt=rt, ttl=120) == ["s"]


def test_sweep_forgets_what_was_computed_from_a_closed_tab_photo(monkeypatch):
    monkeypatch.setattr(uploads, "_STORE", {"open": uploads.Upload("aaa", "a.png", b"x"),
                                            "closed": uploads.Upload("bbb", "b.png", b"y"),
                                            "same": uploads.Upload("ccc", "c.png", b"z"),
                                            "closed2": uploads.Upload("ccc", "c.png", b"z")})
    monkeypatch.setattr(uploads, "_SESSIONS", {s: 0.0 for s in uploads._STORE})
    budget = cache.ByteCache(10 * cache.MB)
    monkeypatch.setattr(cache, "CACHE", budget)
    for word in ("aaa", "bbb", "ccc"):
        budget.put(("lab.layer", (f"upload:{word}|1024|gray", "spec"), ()), np.zeros(1000))
        budget.put(word, np.zeros(10))  # the decoded photo, under its digest
    budget.put(("lab.layer", ("photo:chelsea|1024|gray", "spec")), np.zeros(1000))
    rt = _Runtime(active={"open", "same"})
    uploads.sweep(1000.0, rt=rt, ttl=120)
    assert sorted(uploads.sweep(1200.0, rt=rt, ttl=120)) == ["closed", "closed2"]
    keys = list(budget._entries)
    assert not any("bbb" in str(k) for k in keys)              # nobody can ask for it again
    assert sum("aaa" in str(k) for k in keys) == 2              # an open tab's photo stays
    assert sum("ccc" in str(k) for k in keys) == 2              # held by another tab too
    assert sum("chelsea" in str(k) for k in keys) == 1          # not an upload
    assert budget.stats().used == sum(size for _, size in budget._entries.values())


def test_the_page_notes_its_session_for_the_sweep():
    ok(_open())
    assert uploads._SESSIONS.get("test session id") == 0.0  # noted, active


def test_upload_sizes_are_declared():
    up = uploads.Upload("d", "n", b"x" * 1000)
    assert cache.sizeof(up) == 1000
    assert np.asarray(0).nbytes == 8  # (numpy scalars declare theirs too)
