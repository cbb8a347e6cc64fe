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
        # walk_packages, not iter_modules: the modules of a subpackage are the pages' too
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__,
                                          prefix=f"{package}."):
            if info.name not in SKIP:
                importlib.import_module(info.name)
                names.append(info.name)
    return names


def main() -> None:
    preload()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
