"""Text laid out by hand in figures: Plotly does not wrap annotations."""

from __future__ import annotations

__all__ = ["wrap_words"]


def wrap_words(text: str, width: int) -> list[str]:
    """Split ``text`` into lines of at most about ``width`` characters, at spaces (a word
    longer than ``width`` gets a line of its own)."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line] if line else lines
