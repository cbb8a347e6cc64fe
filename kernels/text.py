"""Kernels as text: parse what people type or paste, and format kernels so they parse back exactly.

Accepted input (one grammar, many spellings)::

    1 0 -1            rows on lines, numbers separated by spaces, tabs or commas
    2 0 -2
    1 0 -1

    1 2 1; 2 4 2; 1 2 1                   semicolons between rows (MATLAB)
    [[1, 0, -1], [2, 0, -2], [1, 0, -1]]  Python / numpy (also array([...]) and print() output)
    1/16 * [1 2 1; 2 4 2; 1 2 1]          a leading scale, with or without '*'
    [1 2 1] / 4                           a trailing scale after a closing bracket
    1/9  -3/4  0.25  .5  1e-3             fractions, decimals, scientific notation
    0,0625  0,125  0,0625                 decimal commas, as in European slides (see below)
    \\begin{bmatrix} 1 & 0 \\\\ 0 & 1 \\end{bmatrix}    LaTeX matrices, \\frac{1}{9} included

Parentheses and braces work as brackets. A single row is a ``1 x n`` kernel.

Decimal commas are a guess, made only when it is by far the likelier reading: no brackets and no
'.', every comma sits between two digits, numbers are separated by whitespace and at least one row
has two of them (``0,5 0,25`` is two numbers). ``1,0,-1``, ``1, 0`` and ``[1,5 2,5]`` keep commas
as separators.

Rejected input raises :class:`KernelTextError` (a ``ValueError``) whose ``row`` and ``col``
(1-based, counted in kernel rows and numbers, not in characters) point at the problem, e.g.
``row 2, column 3: 'abc' is not a number``.
"""

from __future__ import annotations

import math
import re

import numpy as np

__all__ = ["KernelTextError", "parse_kernel", "format_kernel", "display_kernel", "MAX_TEXT_LENGTH"]

#: Longer text is refused before any parsing: 15 x 15 numbers in full precision fit in ~6 kB.
MAX_TEXT_LENGTH = 20_000

#: Largest common denominator :func:`format_kernel` looks for (1/256 covers the 5x5 unsharp mask
#: and 1/225 the 15x15 box).
MAX_DENOMINATOR = 256

_NUM = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_RE = re.compile(rf"({_NUM})(?:/({_NUM}))?")
_NONFINITE_RE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_PREFIX_RE = re.compile(rf"^\s*({_NUM}(?:\s*/\s*{_NUM})?)\s*(?:\*|(?=\[))")
_SUFFIX_RE = re.compile(rf"(?<=\])\s*([*/])\s*({_NUM})\s*$")
_WRAPPER_RE = re.compile(
    r"^\s*(?:(?:np|numpy)\s*\.\s*)?(?:array|asarray|matrix)\s*\((.*)\)\s*$", re.DOTALL
)
_DTYPE_RE = re.compile(r",\s*dtype\s*=\s*[\w.'\"]+\s*$")
_DECIMAL_COMMA_TOKEN = re.compile(r"[+-]?\d+(?:,\d+)?(?:/\d+(?:,\d+)?)?")

# Characters people paste from slides and word processors, mapped to what they mean here.
_TRANSLATE = str.maketrans(
    {
        "\u2212": "-",  # minus sign
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u00d7": "*",  # multiplication sign
        "\u22c5": "*",  # dot operator
        "\u00b7": "*",  # middle dot
        "\u2044": "/",  # fraction slash
        "\u2215": "/",  # division slash
        "(": "[",
        ")": "]",
        "{": "[",
        "}": "]",
    }
)


class KernelTextError(ValueError):
    """Text that is not a kernel, with the place of the problem.

    Attributes
    ----------
    row, col : int or None
        1-based kernel row and column (the n-th number in the row) of the problem, or None when
        not applicable (empty text, unbalanced brackets, a bad scale, a ragged row has no column).
    """

    def __init__(self, message: str, row: int | None = None, col: int | None = None):
        # All three in args, so that the exception pickles and unpickles with its location.
        super().__init__(message, row, col)
        self.message = message
        self.row = row
        self.col = col

    def __str__(self) -> str:
        return self.message


def _error(reason: str, row: int | None = None, col: int | None = None) -> KernelTextError:
    where = []
    if row is not None:
        where.append(f"row {row}")
    if col is not None:
        where.append(f"column {col}")
    return KernelTextError(f"{', '.join(where)}: {reason}" if where else reason, row, col)


# --- parsing --------------------------------------------------------------------------------------


def parse_kernel(text: str, *, max_size: int = 15) -> np.ndarray:
    """Parse a kernel typed or pasted by a person.

    Parameters
    ----------
    text : str
        The kernel; see the module docstring for the accepted spellings.
    max_size : int
        Largest number of rows and of columns allowed (default 15).

    Returns
    -------
    numpy.ndarray
        float64, 2-D ``(rows, columns)``, finite. A fraction ``a/b`` is the float nearest to the
        quotient (``1/9`` gives ``1 / 9`` in Python). A scale ``a/b *`` multiplies each entry
        ``x`` as ``(a * x) / b``, so ``1/16 * [1 2 1]`` is ``[1/16, 2/16, 1/16]`` exactly, the
        same floats as typing ``1/16 2/16 1/16``.

    Raises
    ------
    KernelTextError
        Empty text; a token that is not a number (``row 2, column 3: 'abc' is not a number``);
        NaN, infinity or a division by zero (``1/0``); rows of different lengths (``row 3 has 2
        numbers, row 1 has 3``); more than ``max_size`` rows or columns; unbalanced brackets.
    ValueError
        If ``max_size`` is not a positive integer.

    Examples
    --------
    >>> parse_kernel("1/16 * [1 2 1; 2 4 2; 1 2 1]")[0]
    array([0.0625, 0.125 , 0.0625])
    >>> parse_kernel("[[1, 0, -1], [2, 0, -2], [1, 0, -1]]").shape
    (3, 3)
    """
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
        raise ValueError(f"The parameter `max_size` must be a positive integer; got {max_size!r}")
    if not isinstance(text, str):
        raise KernelTextError(f"The parameter `text` must be a string; got {type(text).__name__}")
    if len(text) > MAX_TEXT_LENGTH:
        raise _error(
            f"the text is {len(text)} characters long; a kernel of at most {max_size}x{max_size} "
            f"numbers needs far fewer (limit {MAX_TEXT_LENGTH})"
        )

    body = _normalise(text)
    if not body.strip():
        raise _error("the kernel is empty: type numbers separated by spaces, one row per line")

    steps: list[tuple[str, float, float]] = []  # ("mul", a, b): x -> (a * x) / b
    m = _PREFIX_RE.match(body)
    if m:
        scale = m.group(1)
        steps.append(("mul", *_parse_scale(scale)))
        body = body[m.end() :]
        if not body.strip():
            raise _error(f"there is no kernel after the scale '{scale}'")
    m = _SUFFIX_RE.search(body)
    if m:
        op, number = m.groups()
        value = _parse_scale(number)[0]
        if op == "/" and value == 0:
            raise _error(f"the scale '/ {number}' divides by zero")
        steps.append(("mul", value, 1.0) if op == "*" else ("mul", 1.0, value))
        body = body[: m.start()]

    rows, bracketed = _split_rows(body)
    if not rows:
        raise _error("the kernel is empty: type numbers separated by spaces, one row per line")

    # Inside brackets commas separate numbers, as in Python and MATLAB ("[1,5 2,5]" is 4 numbers).
    decimal_comma = not bracketed and _uses_decimal_comma(rows)
    out: list[list[float]] = []
    for i, row in enumerate(rows, start=1):
        if i > max_size:
            raise _error(f"the kernel has {len(rows)} rows; at most {max_size} are allowed", i)
        tokens = _tokens(row, decimal_comma)
        if len(tokens) > max_size:
            raise _error(
                f"this row has {len(tokens)} numbers; at most {max_size} are allowed",
                i,
                max_size + 1,
            )
        values = [_parse_entry(tok, steps, i, j) for j, tok in enumerate(tokens, start=1)]
        if i > 1 and len(values) != len(out[0]):
            # The message names the row itself, so it is built without the "row i:" prefix.
            raise KernelTextError(
                f"row {i} has {_count(len(values))}, row 1 has {_count(len(out[0]))}: every row "
                f"needs the same number of entries",
                i,
            )
        out.append(values)
    if not out[0]:
        raise _error("the kernel is empty: type numbers separated by spaces, one row per line")
    return np.array(out, dtype=np.float64).reshape(len(out), len(out[0]))


def _count(n: int) -> str:
    return f"{n} number" if n == 1 else f"{n} numbers"


def _normalise(text: str) -> str:
    """Map LaTeX, numpy wrappers and typographic characters onto the plain grammar."""
    s = text
    if "\\" in s or "$" in s or "&" in s:
        s = re.sub(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", s)
        # A matrix environment is one bracket group; the column spec of {array}{ccc} goes too.
        s = re.sub(r"\\begin\s*\{[a-zA-Z*]*\}(?:\s*\{[lcr|\s]*\})?", "[", s)
        s = re.sub(r"\\end\s*\{[a-zA-Z*]*\}", "]", s)
        s = re.sub(r"\\(?:left|right)\s*[\[\]().|]?", " ", s)
        s = re.sub(r"\\(?:cdot|times)", "*", s)
        s = s.replace("\\\\", "\n").replace("&", " ").replace("$", " ")
        # "(1)/(9)" from \frac: drop the parentheses around plain numbers.
        s = re.sub(rf"\(\s*({_NUM})\s*\)", r"\1", s)
    m = _WRAPPER_RE.match(s)
    if m:
        s = _DTYPE_RE.sub("", m.group(1))
    return s.translate(_TRANSLATE)


def _parse_scale(token: str) -> tuple[float, float]:
    """Return ``(a, b)`` for a scale written ``a`` or ``a/b``."""
    token = re.sub(r"\s+", "", token)
    m = _NUMBER_RE.fullmatch(token)
    assert m is not None  # the callers' regexes only pass numbers here
    a = float(m.group(1))
    b = 1.0 if m.group(2) is None else float(m.group(2))
    if b == 0:
        raise _error(f"the scale '{token}' divides by zero")
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(a / b)):
        raise _error(f"the scale '{token}' is too large for a float (about ±1.8e308)")
    return a, b


def _split_rows(body: str) -> tuple[list[str], bool]:
    """Cut the text into row strings (bracket groups, or ``;`` and newlines); say if bracketed."""
    body = body.strip()
    _check_brackets(body)
    bracketed = "[" in body
    if body.startswith("[") and _matching(body, 0) == len(body) - 1:
        body = body[1:-1]
    if "[" not in body:
        rows = re.split(r"[;\n\r]+", body)
        return [r for r in rows if r.strip(" \t\f\v,")], bracketed
    rows = []
    pos = 0
    while pos < len(body):
        start = body.find("[", pos)
        gap = body[pos:] if start < 0 else body[pos:start]
        stray = gap.strip(" \t\f\v\r\n,;")
        if stray:
            raise _error(
                f"'{stray}' is outside the brackets: with brackets, write every row as [...]"
            )
        if start < 0:
            break
        end = _matching(body, start)
        inner = body[start + 1 : end]
        if "[" in inner:
            raise _error("brackets are nested more than two deep; a kernel is a 2-D grid")
        if ";" in inner:
            raise _error(f"';' inside the bracketed row [{inner.strip()}]", len(rows) + 1)
        rows.append(inner)
        pos = end + 1
    return rows, True


def _check_brackets(s: str) -> None:
    depth = 0
    for ch in s:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise _error("a closing bracket has no matching opening bracket")
    if depth > 0:
        raise _error("an opening bracket is never closed")


def _matching(s: str, start: int) -> int:
    depth = 0
    for i in range(start, len(s)):
        if s[i] == "[":
            depth += 1
        elif s[i] == "]":
            depth -= 1
            if depth == 0:
                return i
    raise _error("an opening bracket is never closed")  # pragma: no cover - checked before


def _uses_decimal_comma(rows: list[str]) -> bool:
    """True when commas can only be decimal commas (see the module docstring)."""
    text = "\n".join(rows)
    if "," not in text or "." in text:
        return False
    words = [row.split() for row in rows]
    if not any(len(w) >= 2 for w in words):
        return False
    return all(_DECIMAL_COMMA_TOKEN.fullmatch(word) for w in words for word in w)


def _tokens(row: str, decimal_comma: bool) -> list[str]:
    # "1 / 9" is one fraction, not three tokens.
    row = re.sub(r"\s*/\s*", "/", row.strip())
    if decimal_comma:
        return [t.replace(",", ".") for t in row.split()]
    return [t for t in re.split(r"[\s,]+", row) if t]


def _parse_entry(token: str, steps: list[tuple[str, float, float]], row: int, col: int) -> float:
    m = _NUMBER_RE.fullmatch(token)
    if m is None:
        if _NONFINITE_RE.fullmatch(token):
            raise _error(f"'{token}' is not a finite number", row, col)
        raise _error(f"'{token}' is not a number", row, col)
    a = float(m.group(1))
    if m.group(2) is None:
        value = a
    else:
        b = float(m.group(2))
        if b == 0:
            raise _error(f"'{token}' divides by zero", row, col)
        value = a / b
    typed = value
    for _, num, den in steps:
        value = (num * value) / den
    if value == 0:
        # "-1 * [1 0 -1]" should not show a "-0": a zero keeps the sign it was typed with.
        value = math.copysign(0.0, typed)
    if not math.isfinite(value) or not math.isfinite(a):
        raise _error(f"'{token}' is too large for a float (about ±1.8e308)", row, col)
    return value


# --- formatting -----------------------------------------------------------------------------------


def format_kernel(k: np.ndarray) -> str:
    """Format a kernel for people, so that :func:`parse_kernel` gives back the same floats.

    Parameters
    ----------
    k : array_like
        2-D, finite, real.

    Returns
    -------
    str
        One line per row, columns right-aligned and separated by two spaces. When every entry
        equals ``n / m`` (as a float) for integers ``n`` and one common denominator
        ``2 <= m <= 256`` (the smallest such ``m`` is used), the first line is ``1/m *`` and the
        grid holds the integers ``n``. Otherwise integers print without a decimal point and other
        entries as Python's shortest round-trip ``repr`` (``0.2740686129557958``, ``1e-05``).
        Negative zero prints as ``-0`` so that it survives the round trip.

    Raises
    ------
    ValueError
        If ``k`` is not a non-empty 2-D array of finite real numbers.

    Examples
    --------
    >>> print(format_kernel(np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16))
    1/16 *
    1  2  1
    2  4  2
    1  2  1
    >>> print(format_kernel([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]))
    -1  0  1
    -2  0  2
    -1  0  1
    """
    a = np.asarray(k)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(
            f"The parameter `k` must be a non-empty 2-dimensional array; got shape {a.shape}"
        )
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"The parameter `k` must hold real numbers; got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError("The parameter `k` must be finite (no NaN or inf)")

    denominator, numerators = _common_denominator(a)
    if denominator > 1:
        cells = [[_format_integer(n) for n in row] for row in numerators]
        header = [f"1/{denominator} *"]
    else:
        cells = [[_format_float(x) for x in row] for row in a]
        header = []
    widths = [max(len(row[j]) for row in cells) for j in range(a.shape[1])]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(header + lines)


def display_kernel(k: np.ndarray, *, decimals: int = 4) -> tuple[str, list[list[str]], bool]:
    """A kernel as people read it: ``(scale, cells, exact)``.

    Exact fractions where the kernel has them: ``("1/16", [["1", "2", "1"], ...], True)`` for
    the 3 x 3 Gaussian (as :func:`format_kernel`). Otherwise no scale and every entry rounded
    to ``decimals`` decimals, trailing zeros dropped (``0.0751``, ``-0.5``, ``2``); ``exact``
    says whether every printed number equals its entry (a page then says when they are
    rounded, and where the exact values are). Never 17-digit floats: those belong to the text
    that must parse back exactly (:func:`format_kernel`).

    >>> display_kernel(np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16)[0]
    '1/16'
    >>> display_kernel(np.array([[0.2740686129557958, 1.0]]))
    ('', [['0.2741', '1']], False)
    """
    lines = format_kernel(k).split("\n")
    if lines[0].endswith("*"):
        return lines[0][:-1].strip(), [ln.split() for ln in lines[1:]], True
    a = np.asarray(k, np.float64)
    cells, exact = [], True
    for row in a:
        out = []
        for x in row:
            text = f"{x:.{decimals}f}".rstrip("0").rstrip(".")
            if text in ("-0", ""):
                text = "0"
            if float(text) != x:
                exact = False
                if text == "0":  # a tiny weight is not zero: say its size
                    text = f"{x:.1e}"
            out.append(text)
        cells.append(out)
    return "", cells, exact


def _common_denominator(a: np.ndarray) -> tuple[int, np.ndarray]:
    """Smallest ``m`` with ``a == n / m`` exactly for integers ``|n| < 1e15``; ``(1, a)`` if none.

    The check divides exactly as :func:`parse_kernel` does (``(1 * n) / m``, correctly rounded),
    so the round trip is guaranteed by construction, not hoped for.
    """
    if np.all(np.rint(a) == a):
        return 1, a
    # a * m can overflow for huge entries; those then fail the equality test, as they should.
    with np.errstate(over="ignore", invalid="ignore"):
        for m in range(2, MAX_DENOMINATOR + 1):
            n = np.rint(a * m)
            if np.all(np.abs(n) < 1e15) and np.array_equal(n / m, a):
                # keep -0.0 where a has it: rint(-0.0 * m) is -0.0 already
                return m, n
    return 1, a


def _format_integer(n: float) -> str:
    if n == 0:
        return "-0" if math.copysign(1.0, n) < 0 else "0"
    return str(int(n))


def _format_float(x: float) -> str:
    x = float(x)
    if x == int(x) and abs(x) < 1e16:
        return _format_integer(x)
    return repr(x)
