"""The kernel's widgets: the preset picker and its parameters, the editor (a table or grid of
the numbers, a text box, actions), the filter bank, a full-RGB filter's slices, and the kernel
as compact text for URLs. Each draws its controls and returns plain values.

Session-state keys are ``f"{key}.<name>"`` so that ``ui/state.py`` can mirror them in the URL:

- kernel picker ``key``: ``.preset``, ``.size``, ``.sigma``, ``.text`` (the kernel applied, as
  text), ``.grid<n>`` (the data editor), ``.seed`` (random kernels), ``.bank`` (filter bank);
- RGB slices: ``f"{key}.slice.R"`` (``G``, ``B``): a slice's text, absent while it equals the
  kernel.

The one rule of the kernel editor: the kernel applied is exactly the kernel shown. The text box
holds it; the grid shows the same numbers; every action (normalise, flip, transpose, random,
reset) rewrites the text, so nothing is applied that is not on the screen.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

import kernels.learned  # noqa: F401  (registers the learned kernels)
from kernels import library
from kernels.parametric import ParamSpec
from kernels.record import Kernel
from kernels.text import KernelTextError, display_kernel, format_kernel, parse_kernel
from ui import shared

GROUP_TITLES = {
    "edges": "Edges",
    "smoothing": "Smoothing",
    "sharpening": "Sharpening",
    "other": "Other",
    "learned": "Learned",
}
SENT_PREFIX = "sent:"  # picker options for kernels sent from another page: "sent:<serial>"
# Largest magnitude of a kernel entry: beyond it a float32 map of a photo can overflow.
MAX_WEIGHT = 1e6
RANDOM_RANGE = (-4, 4)  # random kernels: integers in this range, easy to read and check


@dataclass(frozen=True)
class PickedKernel:
    weights: np.ndarray   # float64 2-D: exactly the kernel applied
    name: str             # the preset's name, or "Custom (edited from ...)"
    preset: Kernel | None  # the preset it came from (None for a sent kernel)
    edited: bool          # the text differs from the preset


# --------------------------------------------------------------------------------------------
# Kernels as compact text (for URLs) and checks
# --------------------------------------------------------------------------------------------

def compact_kernel(w) -> str:
    """One-line text of a kernel that :func:`kernels.text.parse_kernel` reads back exactly,
    for URLs: ``-1,0,1;-2,0,2;-1,0,1`` or ``1/16*1,2,1;2,4,2;1,2,1`` (commas between numbers,
    semicolons between rows; without spaces, commas are never read as decimal commas)."""
    lines = format_kernel(np.asarray(w, np.float64)).split("\n")
    scale = ""
    if lines[0].endswith("*"):
        scale, lines = lines[0].replace(" ", ""), lines[1:]
    return scale + ";".join(",".join(line.split()) for line in lines)


def parse_compact(text: str) -> str:
    """URL text of a kernel -> the kernel's display text (``ValueError`` with the reason)."""
    return format_kernel(check_weights(parse_kernel(text)))


def format_compact(text: str) -> str:
    """A kernel's display text -> its URL text (the inverse of :func:`parse_compact`)."""
    return compact_kernel(parse_kernel(text))


def check_weights(w: np.ndarray) -> np.ndarray:
    """Refuse entries so large that a photo's map would overflow float32."""
    big = np.abs(w) > MAX_WEIGHT
    if big.any():
        r, c = (int(i) + 1 for i in np.argwhere(big)[0])
        raise KernelTextError(
            f"row {r}, column {c}: {w[r - 1, c - 1]:g} is too large; entries must lie between "
            f"-{MAX_WEIGHT:g} and {MAX_WEIGHT:g}", r, c)
    return w


# --------------------------------------------------------------------------------------------
# The kernel picker
# --------------------------------------------------------------------------------------------

def _options() -> list[str]:
    return [k.key for k in library.presets()] + [
        f"{SENT_PREFIX}{s.serial}" for s in shared.sent_kernels()
    ]


def preset_keys() -> list[str]:
    """Keys of the presets (what a URL may name)."""
    return [k.key for k in library.presets()]


def _sent(option: str) -> shared.SentKernel | None:
    if not option.startswith(SENT_PREFIX):
        return None
    try:
        serial = int(option[len(SENT_PREFIX):])
    except ValueError:
        return None
    return next((s for s in shared.sent_kernels() if s.serial == serial), None)


def _label(option: str) -> str:
    sent = _sent(option)
    if sent is not None:
        return f"Sent · {sent.name} (from {sent.source})"
    if option.startswith(SENT_PREFIX):
        return "Sent kernel (no longer available)"
    k = library.get(option)
    return f"{GROUP_TITLES.get(k.group, k.group)} · {k.name}"


def kernel_summary(key: str) -> str:
    """The picker's kernel in a few words, from the session state (for a collapsed section's
    label, written before the picker): its preset, size and the filter bank's extra maps."""
    s = st.session_state
    option = s.get(f"{key}.preset")
    if option is None or option not in _options():
        return "choose a kernel"
    text = _label(option).split(" · ", 1)[-1]
    if f"{key}.size" in s and option in library.PARAMETRIC:
        text += f", {s[f'{key}.size']} x {s[f'{key}.size']}"
    if f"{key}.text" in s or _next(f"{key}.text") in s:
        # an edited kernel is not the preset any more: say so, as the figure does (one name
        # for every edit, so that the header changes only when the kernel leaves its preset
        # or comes back to it)
        current, base = current_kernel(key), _base(key)
        if current is not None and base is not None and (
                current.shape != base.shape or not np.array_equal(current, base)):
            text = f"Custom (edited from {text})"
    bank = s.get(f"{key}.bank") or []
    if bank:  # those the bank keeps: of the kernel's shape
        has_text = f"{key}.text" in s or _next(f"{key}.text") in s
        current = current_kernel(key) if has_text else _base(key)
        if current is not None:
            bank = [k for k in bank if k in bank_candidates(current.shape)]
    if bank:
        text += f" · + {len(bank)} more in the filter bank"
    return text


def preset_kernel(option: str, size: int | None, sigma: float | None) -> np.ndarray:
    """The weights of a picker option at the given parameters."""
    sent = _sent(option)
    if sent is not None:
        return sent.weights
    spec = library.PARAMETRIC.get(option)
    if spec is None:
        return library.get(option).weights
    return library.get(option, size=size, sigma=sigma if spec.takes_sigma else None).weights


# A callback that changes a widget's value (the text after an action, the sigma after a new
# size) leaves the value under "<widget key>.next", and the script moves it into the widget's
# key just before drawing the widget. Written into the widget's key by the callback itself, the
# value would not reach the browser when the callback's rerun is a keyed one (``st.rerun`` of
# named fragments: that run starts by settling the session state, after which the widget no
# longer counts as set by the app), and the browser's old value would come back with the next
# interaction.
def _next(name: str) -> str:
    return f"{name}.next"


def _peek(name: str, default=None):
    """A widget's value, or the value a callback left for it."""
    s = st.session_state
    return s[_next(name)] if _next(name) in s else s.get(name, default)


def apply_pending(*names: str) -> None:
    """Move the values callbacks left for these widgets into their keys (before drawing them)."""
    s = st.session_state
    for name in names:
        if _next(name) in s:
            s[name] = s.pop(_next(name))


def drop_pending(*names: str) -> None:
    for name in names:
        st.session_state.pop(_next(name), None)


def _base(key: str) -> np.ndarray | None:
    s = st.session_state
    try:
        return preset_kernel(s[f"{key}.preset"], s.get(f"{key}.size"), _peek(f"{key}.sigma"))
    except (ValueError, KeyError):
        return None


def _set_text(key: str, w: np.ndarray, note: str = "") -> None:
    """From a callback: the text box will show ``w`` (see :func:`_next`)."""
    s = st.session_state
    s[_next(f"{key}.text")] = format_kernel(w)
    s[f"{key}.note"] = note


def _reset_text(key: str) -> None:
    """Show the chosen preset's weights in the editor (on a change of preset or parameters)."""
    w = _base(key)
    if w is not None:
        _set_text(key, w)
        st.session_state[f"{key}.origin"] = ""


def _on_size(key: str) -> None:
    """A new size: the sigma goes back to that size's default, then the editor follows."""
    s = st.session_state
    spec = library.PARAMETRIC.get(s[f"{key}.preset"])
    if spec is not None and spec.takes_sigma:
        s[_next(f"{key}.sigma")] = round(float(spec.default_sigma(s[f"{key}.size"])), 2)
    _reset_text(key)


def current_kernel(key: str) -> np.ndarray | None:
    """The kernel the text box holds (the last good one while its text has an error)."""
    s = st.session_state
    try:
        return check_weights(parse_kernel(_peek(f"{key}.text", "")))
    except KernelTextError:
        return s.get(f"{key}.last_good")


def _act(key: str, action: str) -> None:
    """The kernel actions; each rewrites the text, so what is applied is what is shown."""
    s = st.session_state
    w = current_kernel(key)
    if w is None:
        return
    if action == "normalise":
        total = float(w.sum())
        if total == 0 or not np.isfinite(total):
            s[f"{key}.note"] = ("The weights sum to 0 (an edge or derivative kernel): there is "
                                "nothing to divide by, so the kernel is unchanged.")
            return
        _set_text(key, w / total, f"Divided every weight by their sum, {total:g}: the weights "
                                  f"now sum to 1, so flat areas keep their brightness.")
    elif action == "flip":
        _set_text(key, w[::-1, ::-1].copy(),
                  "Rotated by 180°: cross-correlation with this kernel is the true (mathematical) "
                  "convolution with the previous one.")
    elif action == "transpose":
        _set_text(key, w.T.copy(), "Transposed: rows became columns (x and y swap roles).")
    elif action == "random":
        seed = int(s.get(f"{key}.seed", 0)) + 1
        s[f"{key}.seed"] = seed
        rng = np.random.default_rng(seed)
        lo, hi = RANDOM_RANGE
        _set_text(key, rng.integers(lo, hi + 1, size=w.shape).astype(np.float64),
                  f"Random integers from {lo} to {hi} (numpy default_rng, seed {seed}).")
        s[f"{key}.origin"] = f"Random (seed {seed})"
    elif action == "reset":
        _reset_text(key)


def _then(callback, after):
    """``callback``, then ``after`` (e.g. a keyed ``st.rerun`` naming what to redraw); just
    ``callback`` when there is no ``after``."""
    if after is None:
        return callback

    def both(*args):
        callback(*args)
        after()
    return both


ROUNDED_NOTE = ("Rounded to 4 decimals here; the exact weights applied are in the text box "
                "(Type or paste a kernel).")


def kernel_table_html(weights: np.ndarray) -> str:
    """The kernel as an HTML table as people read it (:func:`kernels.text.display_kernel`):
    a common fraction in front when there is one ("1/16 ×" and integers), else the weights
    rounded to 4 decimals, with a note saying so. Never 17-digit floats."""
    scale, cells, exact = display_kernel(np.asarray(weights, np.float64))
    size = 1.3 if max(weights.shape) <= 5 else 1.0 if max(weights.shape) <= 9 else 0.8
    cell = ("border: 1px solid rgba(128, 128, 128, 0.45); padding: 2px 10px; "
            "text-align: right;")
    rows = "".join("<tr>" + "".join(f'<td style="{cell}">{html.escape(v)}</td>' for v in row)
                   + "</tr>" for row in cells)
    front = (f'<span style="font-size: {size}rem; margin-right: 6px">{html.escape(scale)} ×</span>'
             if scale else "")
    note = ("" if exact else f'<div class="kernel-rounded" style="font-size: 0.85rem; '
            f'opacity: 0.75; margin-top: 4px">{html.escape(ROUNDED_NOTE)}</div>')
    return (f'<div class="kernel-table" style="display: flex; align-items: center; '
            f'overflow-x: auto">{front}<table style="border-collapse: collapse; '
            f'font-family: monospace; font-size: {size}rem">{rows}</table></div>{note}')


def grid_format(weights: np.ndarray) -> tuple[str, int, bool]:
    """The grid editor's number format for ``weights``, the longest number's characters, and
    whether numbers are shown rounded: ``"plain"`` when every weight is short (integers,
    0.25, -0.0625), else 4 significant digits (``%.4g``: 0.07511; a 17-digit float is
    unreadable in a narrow cell)."""
    texts = [repr(float(v)).removesuffix(".0") for v in np.asarray(weights, np.float64).ravel()]
    longest = max(len(t) for t in texts)
    if longest <= 7:
        return "plain", longest, False
    shown = [f"{float(v):.4g}" for v in np.asarray(weights, np.float64).ravel()]
    return "%.4g", max(len(t) for t in shown), True


def kernel_grid(key: str, weights: np.ndarray, *, label: str = "The kernel applied",
                on_change=None) -> tuple[np.ndarray, bool]:
    """An editable grid (``st.data_editor``) of ``weights``; returns (weights after the user's
    edits, whether they changed). An empty or non-finite cell is refused with an error naming
    its row and column, and the weights stay as they were. ``on_change``: called after an edit.

    The editor restarts (a new key) whenever ``weights`` change from outside the grid, so an
    old edit is never replayed onto a new kernel.
    """
    s = st.session_state
    src = format_kernel(weights)
    if s.get(f"{key}.grid_src") != src:
        s[f"{key}.grid_ver"] = s.get(f"{key}.grid_ver", 0) + 1
        s[f"{key}.grid_src"] = src
    kh, kw = weights.shape
    cols = [str(j + 1) for j in range(kw)]
    frame = pd.DataFrame(weights, columns=cols, index=[str(i + 1) for i in range(kh)])
    fmt, chars, rounded = grid_format(weights)
    # columns as wide as their numbers (a digit is ~9 px in the grid's font, plus the cell's
    # padding): a 3 x 3 to 5 x 5 kernel of short numbers fits the sidebar, larger ones scroll;
    # long decimals are shown to 4 significant digits (the text box holds them exactly)
    width = int(max(44, min(140, 9 * chars + 22)))
    edited = st.data_editor(
        frame, key=f"{key}.grid{s[f'{key}.grid_ver']}",
        column_config={c: st.column_config.NumberColumn(c, format=fmt, width=width)
                       for c in cols},
        width="content", num_rows="fixed", row_height=38, on_change=on_change,
    )
    if rounded:
        st.caption("Shown to 4 significant digits; the exact weights are in the text box "
                   "(Type or paste a kernel), and stay exact unless you edit a cell.")
    try:
        w = edited.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        st.error(f"{label}: every cell must be a number.")
        return weights, False
    bad = ~np.isfinite(w)
    if bad.any():
        r, c = (int(i) + 1 for i in np.argwhere(bad)[0])
        st.error(f"{label}: row {r}, column {c} is empty or not a number; type a number there. "
                 f"Still using the previous kernel.")
        return weights, False
    try:
        check_weights(w)
    except KernelTextError as exc:
        st.error(f"{label}: {exc}. Still using the previous kernel.")
        return weights, False
    if w.shape == weights.shape and np.array_equal(w, weights):
        return weights, False
    s[f"{key}.grid_src"] = format_kernel(w)
    return w, True


def _settle(key: str, default: str, page: str | None) -> list[str]:
    """The picker's state made whole before it is drawn or read: a pending sigma applied, a
    valid preset chosen, a kernel sent from another page adopted (once). Returns the options."""
    s = st.session_state
    apply_pending(f"{key}.sigma")
    options = _options()
    if f"{key}.preset" not in s or s[f"{key}.preset"] not in options:
        s[f"{key}.preset"] = default if default in options else options[0]
    new = shared.take_new_kernel(page) if page else None
    if new is not None:
        s[f"{key}.preset"] = f"{SENT_PREFIX}{new.serial}"
        s[f"{key}.text"] = format_kernel(new.weights)
        drop_pending(f"{key}.text")
        st.toast(f"Using the kernel sent from {new.source}: {new.name}")
    return options


def _settle_size(key: str, spec: ParamSpec) -> None:
    s = st.session_state
    if f"{key}.size" not in s or s[f"{key}.size"] not in spec.sizes:
        s[f"{key}.size"] = spec.default_size


def _settle_sigma(key: str, spec: ParamSpec, size: int) -> None:
    s = st.session_state
    lo, hi = spec.sigma_range
    if f"{key}.sigma" not in s or not lo <= s[f"{key}.sigma"] <= min(hi, 10.0):
        s[f"{key}.sigma"] = round(float(spec.default_sigma(size)), 2)


def _base_of(key: str, option: str, size, sigma, *, show_error: bool = True):
    """(the weights of the option at its parameters, its name, its preset or None); the
    text box starts from those weights."""
    try:
        base = preset_kernel(option, size, sigma)
    except ValueError as exc:  # e.g. a sigma outside the range after a URL edit
        if show_error:
            st.error(str(exc))
        base = library.get(option).weights
    sent = _sent(option)
    preset = None if option.startswith(SENT_PREFIX) else library.get(option, size=size, sigma=sigma)
    if f"{key}.text" not in st.session_state:
        st.session_state[f"{key}.text"] = format_kernel(base)
    name = (preset.name if preset else sent.name if sent else "Kernel")
    return base, name, preset


def _picked(key: str, weights: np.ndarray, base: np.ndarray, name: str,
            preset: Kernel | None) -> PickedKernel:
    edited = weights.shape != base.shape or not np.array_equal(weights, base)
    if edited:
        origin = st.session_state.get(f"{key}.origin")
        name = origin if origin else f"Custom (edited from {name})"
    return PickedKernel(np.asarray(weights, np.float64), name, preset, edited)


def picked_kernel(key: str, *, default: str = "sobel_x", page: str | None = None) -> PickedKernel:
    """The kernel :func:`kernel_picker` holds, from the session state alone, without drawing
    anything: for a page whose picker is folded away and not built (its widgets keep their
    values while hidden: ``persist="page"``). The picker's own messages (a kernel text that
    does not parse) wait until it is shown; the last good kernel applies meanwhile."""
    s = st.session_state
    _settle(key, default, page)
    option = s[f"{key}.preset"]
    spec = library.PARAMETRIC.get(option)
    size = sigma = None
    if spec is not None:
        _settle_size(key, spec)
        size = s[f"{key}.size"]
        if spec.takes_sigma:
            _settle_sigma(key, spec, size)
            sigma = s[f"{key}.sigma"]
    base, name, preset = _base_of(key, option, size, sigma, show_error=False)
    apply_pending(f"{key}.text")
    try:
        weights = check_weights(parse_kernel(s[f"{key}.text"]))
        s[f"{key}.last_good"] = weights
    except KernelTextError:
        weights = current_kernel(key)
        weights = base if weights is None else weights
    return _picked(key, weights, base, name, preset)


def kernel_picker(key: str, *, default: str = "sobel_x", label: str = "Kernel",
                  editable: bool = True, page: str | None = None, grid: bool = True,
                  actions: bool = True, on_change=None, on_edit=None,
                  editor_key: str | None = None, on_picked=None,
                  persist: str | None = None) -> PickedKernel:
    """A preset picker grouped by purpose, its parameters (size, sigma), its description and
    reference, and editors holding exactly the kernel that will be applied: the actions
    normalise, flip, transpose, random and reset (``actions``), a grid of numbers (``grid``)
    and a text box to type or paste a kernel.

    A kernel sent from another page (``ui.shared.send_kernel``) is offered in the list, and
    selected once when ``page`` is given and it has not adopted that kernel yet.

    ``on_change``: called after a change of the preset or its parameters, ``on_edit`` after
    an edit (an action, the grid, the text; default: ``on_change``), e.g. a keyed
    ``st.rerun`` that redraws what uses the kernel too. ``editor_key``: the editors below the
    actions (the table or grid, the note, the text) are a fragment with this key, which
    ``on_edit`` may rerun alone; ``on_picked`` is then called with the kernel each time the
    editors run, as the return value is not seen when they rerun alone. ``persist``: the
    widgets' ``persist_state`` ("page": they keep their values while the picker is not drawn;
    :func:`picked_kernel` reads them then).
    """
    on_edit = on_change if on_edit is None else on_edit
    options = _settle(key, default, page)
    option = st.selectbox(label, options, key=f"{key}.preset", format_func=_label,
                          on_change=_then(_reset_text, on_change), args=(key,),
                          persist_state=persist)
    spec = library.PARAMETRIC.get(option)
    size = sigma = None
    if spec is not None:
        _settle_size(key, spec)
        size = st.select_slider("Kernel size", spec.sizes, key=f"{key}.size",
                                on_change=_then(_on_size, on_change), args=(key,),
                                format_func=lambda n: f"{n} x {n}", persist_state=persist)
        if spec.takes_sigma:
            lo, hi = spec.sigma_range
            _settle_sigma(key, spec, size)
            sigma = st.slider("Sigma (spread)", float(lo), float(min(hi, 10.0)), step=0.05,
                              key=f"{key}.sigma", on_change=_then(_reset_text, on_change),
                              args=(key,), persist_state=persist)
    base, name, preset = _base_of(key, option, size, sigma)
    sent = _sent(option)
    if preset is not None:
        st.caption(f"**{preset.description}** Finds {preset.detects}. Source: {preset.reference}.")
    elif sent is not None:
        st.caption(f"Sent from {sent.source}.")
    if not editable:
        picked = PickedKernel(np.asarray(base, np.float64), name, preset, False)
        if on_picked is not None:
            on_picked(picked)
        return picked
    if actions:
        buttons = (
            ("normalise", "Normalise", "divide every weight by their sum"),
            ("flip", "Flip 180°", "rotate by 180°: true convolution"),
            ("transpose", "Transpose", "swap rows and columns"),
            ("random", "Random", "random integers, seeded (the seed is shown)"),
            ("reset", "Reset", "back to the preset"),
        )
        # one row that wraps, not rows of columns: fewer elements for every rerun of the page
        # to send and the browser to redraw. Above the kernel, so that an action can rerun
        # the editors alone (``editor_key``), without the buttons.
        row = st.container(horizontal=True, gap="small")
        for action, text, helptext in buttons:
            row.button(text, key=f"{key}.do.{action}", on_click=_then(_act, on_edit),
                       args=(key, action), help=helptext)
    editor = _kernel_editor if editor_key is None else st.fragment(_kernel_editor,
                                                                     key=editor_key)
    return editor(key, base, name, preset, grid, on_edit, on_picked, persist)


def _kernel_editor(key: str, base: np.ndarray, name: str, preset: Kernel | None,
                   grid: bool, on_edit, on_picked, persist: str | None = None) -> PickedKernel:
    """:func:`kernel_picker`'s editors: the kernel as a table (or an editable grid), the last
    action's note, the text box; returns the kernel they hold (the text's, when it parses)."""
    s = st.session_state
    apply_pending(f"{key}.text")
    current = current_kernel(key)
    if current is None:
        current = base
    if grid:
        st.markdown(f"**The kernel applied** ({current.shape[0]} x {current.shape[1]}, "
                    f"cross-correlation as in PyTorch)")
        # the numbers as a table, and the editable grid when asked for: the browser builds
        # the grid anew for every new kernel, a table is plain text in large type
        table = st.empty()
        box = st.expander("Edit the numbers in a grid", key=f"{key}.grid_open",
                          on_change="rerun", icon=":material/edit:")
        if box.open:
            with box:
                current, changed = kernel_grid(key, current, on_change=on_edit)
            if changed:
                s[f"{key}.text"] = format_kernel(current)
                s[f"{key}.note"] = ""
        else:
            table.html(kernel_table_html(current))
    else:
        # no grid: the numbers as a table all the same (rounded where they are long), the
        # exact text folded away below
        st.html(kernel_table_html(current))
    if s.get(f"{key}.note"):
        st.caption(s[f"{key}.note"])
    with st.expander("Type or paste a kernel (the exact weights)"):
        text = st.text_area(
            "Numbers in rows; fractions like 1/9; `1/16 * [1 2 1; 2 4 2; 1 2 1]`; "
            "Python/numpy, MATLAB and LaTeX forms work too",
            key=f"{key}.text", height=min(60 + 28 * base.shape[0], 360),
            on_change=on_edit, persist_state=persist)
    try:
        weights = check_weights(parse_kernel(text))
        s[f"{key}.last_good"] = weights
    except KernelTextError as exc:
        still = "Still using the previous kernel" if current is not None else "Using the preset"
        st.error(f"The kernel text has a problem: {exc}. {still}.")
        weights = current if current is not None else base
    picked = _picked(key, weights, base, name, preset)
    if on_picked is not None:
        on_picked(picked)
    return picked


# --------------------------------------------------------------------------------------------
# Filter bank and RGB slices
# --------------------------------------------------------------------------------------------

def bank_candidates(shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Presets that can join a bank with a kernel of ``shape`` (all filters of a layer share
    one size): fixed kernels of that shape, and parametric ones built at that size."""
    out: dict[str, np.ndarray] = {}
    kh, kw = shape
    for k in library.presets():
        spec = library.PARAMETRIC.get(k.key)
        if spec is None:
            if k.shape == shape:
                out[k.key] = k.weights
        elif kh == kw and kh in spec.sizes:
            out[k.key] = library.get(k.key, size=kh).weights
    return out


def _bank_name(k: str, shape: tuple[int, int]) -> str:
    return library.get(k, size=shape[0] if k in library.PARAMETRIC else None).name


def _keep_shape(key: str, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """The bank's candidates for ``shape``; kernels of another size are dropped from the bank,
    and a message says which."""
    s = st.session_state
    candidates = bank_candidates(shape)
    chosen = list(s.get(f"{key}.bank") or [])
    dropped = [c for c in chosen if c not in candidates]
    if dropped:
        s[f"{key}.bank"] = [c for c in chosen if c in candidates]
        st.info(f"Removed from the bank (not {shape[0]} x {shape[1]}, the kernel's size): "
                f"{', '.join(dropped)}.")
    return candidates


def bank_kernels(key: str, shape: tuple[int, int]) -> list[tuple[str, np.ndarray]]:
    """The filter bank :func:`bank_picker` holds, from the session state alone, without
    drawing the picker (only the message about kernels of another size, if any)."""
    candidates = _keep_shape(key, shape)
    return [(_bank_name(k, shape), candidates[k]) for k in st.session_state.get(f"{key}.bank")
            or []]


def bank_picker(key: str, shape: tuple[int, int], *, on_change=None,
                persist: str | None = None) -> list[tuple[str, np.ndarray]]:
    """More kernels for a filter bank (one output map each), of the main kernel's shape.
    Returns ``[(name, weights), ...]`` without the main kernel. ``on_change``: called after a
    change of the bank; ``persist``: the widget's ``persist_state``."""
    candidates = _keep_shape(key, shape)
    picked = st.multiselect(
        f"Filter bank: more {shape[0]} x {shape[1]} kernels, one output map each",
        list(candidates), key=f"{key}.bank", format_func=lambda k: library.get(k).name.split(
            " (")[0] if k not in library.PARAMETRIC else library.get(k, size=shape[0]).name,
        placeholder="e.g. Sobel y with Sobel x", max_selections=7, on_change=on_change,
        persist_state=persist)
    return [(_bank_name(k, shape), candidates[k]) for k in picked]


LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, as conv.image.to_gray


def _slice_action(key: str, base_text: str, action: str) -> None:
    s = st.session_state
    for c in "RGB":
        s.pop(f"{key}.slice.{c}", None)
    if action == "luma":
        try:
            base = parse_kernel(base_text)
        except KernelTextError:
            return
        for c, f in zip("RGB", LUMA):
            s[f"{key}.slice.{c}"] = format_kernel(base * f)
    elif action in ("R", "G", "B"):
        try:
            base = parse_kernel(base_text)
        except KernelTextError:
            return
        for c in "RGB":
            if c != action:
                s[f"{key}.slice.{c}"] = format_kernel(np.zeros_like(base))


def _slices_from_state(key: str, base: np.ndarray) -> list[np.ndarray]:
    """The slices' kernels from their texts (a text that does not parse or no longer has the
    kernel's shape is dropped: the slice is ``base`` again)."""
    s = st.session_state
    slices = []
    for c in "RGB":
        text = s.get(f"{key}.slice.{c}")
        w = None
        if text is not None:
            try:
                w = parse_kernel(text)
            except KernelTextError:
                w = None
        if w is None or w.shape != base.shape:
            s.pop(f"{key}.slice.{c}", None)
            w = base
        slices.append(w)
    return slices


def slices_from_state(key: str, base: np.ndarray) -> np.ndarray:
    """The slices :func:`rgb_slices` holds, float64 ``(3, kH, kW)``, without drawing them."""
    return np.stack(_slices_from_state(key, base))


def rgb_slices(key: str, base: np.ndarray, *, on_change=None) -> np.ndarray:
    """The three slices (R, G, B) of a full-RGB filter, each editable; a slice that was never
    edited is ``base``. Returns float64 ``(3, kH, kW)``. ``on_change``: called after a change
    of a slice."""
    s = st.session_state
    base_text = format_kernel(base)
    slices = _slices_from_state(key, base)
    st.markdown(f"**The filter's three slices** ({base.shape[0]} x {base.shape[1]} x 3): each "
                f"slice is applied to its channel and the three results are summed into one map.")
    buttons = (("same", "Same on all"), ("luma", "Luma weights"), ("R", "Only R"),
               ("G", "Only G"), ("B", "Only B"))
    helps = {"same": "every slice = the kernel",
             "luma": "slices = kernel x (0.299, 0.587, 0.114): the grayscale result"}
    for row in (buttons[:2], buttons[2:4], buttons[4:]):
        for col, (action, text) in zip(st.columns(2, gap="small"), row):
            col.button(text, key=f"{key}.slices.{action}",
                       on_click=_then(_slice_action, on_change),
                       args=(key, base_text, action), width="stretch",
                       help=helps.get(action, f"keep the {action} slice, zero the others"))
    tabs = st.tabs([f"{c} slice" for c in ("R", "G", "B")])
    for i, (tab, c) in enumerate(zip(tabs, "RGB")):
        with tab:
            w, changed = kernel_grid(f"{key}.slice{c}", slices[i], label=f"{c} slice",
                                     on_change=on_change)
            if changed:
                s[f"{key}.slice.{c}"] = format_kernel(w)
                slices[i] = w
    return np.stack(slices)
