"""Providers are described once: no provider or endpoint id is spelled outside their own packages.

Everything else (the Discord layer, the engine, storage, settings) reads the descriptions in
``bot/providers`` and the catalog in ``bot/models``; a literal elsewhere is a second description
that a new provider would have to find and edit.
"""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("bot", "cogs")
#: Where providers and endpoints are described: the only places their ids may be written.
DESCRIBED_IN = ("bot/models", "bot/providers")
LITERAL = re.compile(
    r'"(seedance2ai|seedanceapi|seed2|seedance2|seedance|gpt-image-2|nano-banana-pro|seed2-fast'
    r'|seed2-premium)"|Provider\.(SEEDANCE2AI|SEEDANCEAPI|SEED2)'
)
#: Lines that match by coincidence: (file, the line's text).
NOT_PROVIDERS = {
    # The Prometheus name prefix (seedance_jobs, ...) is the bot's name, not the endpoint.
    ("bot/metrics.py", 'namespace: str = "seedance",'),
}


def literals_outside_descriptions() -> list[str]:
    found = []
    for folder in SCANNED:
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            name = path.relative_to(PROJECT_ROOT).as_posix()
            if name.startswith(tuple(f"{d}/" for d in DESCRIBED_IN)):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if LITERAL.search(line) and (name, line.strip()) not in NOT_PROVIDERS:
                    found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_no_provider_or_endpoint_id_outside_the_descriptions() -> None:
    assert literals_outside_descriptions() == []


def test_the_scan_sees_a_literal() -> None:
    # The regex must match what it is meant to catch, or the test above proves nothing.
    assert LITERAL.search('if job.endpoint == "seedance2":')
    assert LITERAL.search("Provider.SEED2: ...")
    assert not LITERAL.search('"seedance_2.0_fast"')
