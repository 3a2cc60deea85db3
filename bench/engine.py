"""Benchmark: the job engine against naive pollers; the benchmark itself is bench/compare.py.

    .venv/bin/python bench/engine.py [--quick]    # the same as bench/compare.py [--quick]

This file used to time the engine on renders that took exactly as long as the engine's prior
expected, against one naive 10 s poller. bench/compare.py replaces it: render times the engine
does not know, cold and warm, naive 10 s and 5 s pollers in the same run, key checks, 429 storms,
a shared key, callbacks and 10,000 jobs in flight, each against the issue's targets.
"""

from __future__ import annotations

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).with_name("compare.py")), run_name="__main__")
