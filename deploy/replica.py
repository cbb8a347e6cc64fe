"""One replica of the app, ready before it says so: ``python -m deploy.replica run app.py ...``.

``deploy/serve.py`` starts each replica this way, with the arguments of the ``streamlit``
command. Before Streamlit's server starts (and answers its health check, which admits the
replica to the load balancer), this starts the engine's warm-up (``conv/warm.py``: the numba
loops compile in a child process) and imports every module the pages use, so the first student
sent to a fresh replica does not wait for imports or compilation.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

# Packages whose modules the pages import; the training command is not one of them.
PACKAGES = ("conv", "kernels", "viz", "ui")
SKIP = {"kernels.train_lenet"}


def preload() -> list[str]:
    """Start the engine's warm-up and import the pages' modules; returns their names."""
    from conv import warm

    warm.start_background()
    names = []
    for package in PACKAGES:
        for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
            name = f"{package}.{info.name}"
            if not info.ispkg and name not in SKIP:
                importlib.import_module(name)
                names.append(name)
    return names


def main() -> None:
    preload()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
