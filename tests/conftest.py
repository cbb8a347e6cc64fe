"""Settings for every test."""

import os

# AppTest runs app.py in this process: without this, its first run would start the engine's
# background warm-up (conv/warm.py), and the engine's tests would run on whichever path the
# warm-up had reached. tests/conv/test_warm.py tests the warm-up itself.
os.environ.setdefault("CONVVIZ_WARM", "0")
