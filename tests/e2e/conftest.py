"""Fixtures of the end-to-end tests: a private SLURM cluster and a tiny offline model.

Both are session-scoped: the cluster starts once (about 1.5 s) and the model is built once
(3 to 5 s, mostly importing torch). How long each took is printed in pytest's summary.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cluster import Cluster, missing_requirements, running_cluster

TIMINGS: dict[str, float] = {}


def unavailable(reason: str) -> None:
    """Skip when run by hand without root or extras; fail under `make e2e` (E2E_REQUIRED=1),
    where a skipped end-to-end test would let CI pass without proving anything."""
    if os.environ.get("E2E_REQUIRED"):
        pytest.fail(f"e2e requirement missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """A running single-node cluster; stopped at the end of the session, pass or fail."""
    reason = missing_requirements()
    if reason:
        unavailable(reason)
    start = time.monotonic()
    with running_cluster() as running:
        TIMINGS["cluster start"] = time.monotonic() - start
        yield running


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """The directory of a tiny random Llama model, for `-M model_path=...`."""
    missing = [m for m in ("torch", "transformers", "tokenizers", "accelerate") if importlib.util.find_spec(m) is None]
    if missing:
        unavailable(f"the e2e extras are not installed ({', '.join(missing)}); run `make e2e`")
    from tests.e2e.tiny_model import build_tiny_model

    start = time.monotonic()
    directory = build_tiny_model(tmp_path_factory.mktemp("tiny-model"))
    TIMINGS["tiny model build"] = time.monotonic() - start
    return directory


def pytest_terminal_summary(terminalreporter) -> None:
    if TIMINGS:
        terminalreporter.section("e2e timings")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")
