"""The layer's named options and every word they are shown with: one table each.

The engine validates against the names (PyTorch's), the controls, figures, titles and code
snippets take their words from here, so a mode is renamed or added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACTIVATIONS", "ACTIVATION_MODES", "PADDING", "PADDING_MODES", "POOLING",
           "POOL_MODES", "Activation", "PaddingMode", "Pooling"]


@dataclass(frozen=True)
class PaddingMode:
    name: str       # PyTorch's ``padding_mode``
    control: str    # on the control that picks it
    fills: str      # what the padding is filled with, in a title ("padding 1: reflection")
    cells: str      # an adjective for the padding cells ("reflected padding")
    numpy: str      # ``numpy.pad``'s mode (scipy.ndimage would say constant/mirror/nearest/wrap)
    torch_pad: str  # ``torch.nn.functional.pad``'s mode


PADDING = {m.name: m for m in (
    PaddingMode("zeros", "zeros", "zeros", "zero", "constant", "constant"),
    PaddingMode("reflect", "reflect", "reflection", "reflected", "reflect", "reflect"),
    PaddingMode("replicate", "replicate edge", "copies of the edge", "replicated", "edge",
                "replicate"),
    PaddingMode("circular", "circular (wrap)", "wrap-around", "wrapped", "wrap", "circular"),
)}
PADDING_MODES = tuple(PADDING)


@dataclass(frozen=True)
class Activation:
    name: str      # the engine's name (``torch.nn.functional``'s function)
    control: str   # on the control that picks it
    title: str     # a stage's title ("ReLU"); leaky ReLU adds its slope
    equation: str  # in an equation line ("ReLU(12) = 12")


ACTIVATIONS = {a.name: a for a in (
    Activation("identity", "none", "No activation", ""),
    Activation("relu", "ReLU", "ReLU", "ReLU"),
    Activation("leaky_relu", "leaky ReLU", "Leaky ReLU", "LeakyReLU"),
    Activation("sigmoid", "sigmoid", "Sigmoid", "sigmoid"),
    Activation("tanh", "tanh", "tanh", "tanh"),
    Activation("abs", "|x|", "|x|", "abs"),
)}
ACTIVATION_MODES = tuple(ACTIVATIONS)


@dataclass(frozen=True)
class Pooling:
    name: str     # the engine's mode
    control: str  # on the control that picks it


POOLING = {p.name: p for p in (Pooling("max", "max"), Pooling("avg", "average"))}
POOL_MODES = tuple(POOLING)
