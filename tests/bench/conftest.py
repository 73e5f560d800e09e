"""Loading a bench/ script as a module for its tests, without leaving a trace in the process."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

LoadBench = Callable[[str], ModuleType]


@pytest.fixture
def load_bench(monkeypatch: pytest.MonkeyPatch) -> LoadBench:
    """`load_bench("intake")`: bench/intake.py as the module `bench_intake` (not `intake`,
    the platform's package), with bench/ on the path for its `from support import ...`.
    The path and the module are put back after the test: some scripts reorder the path."""

    def load(name: str) -> ModuleType:
        monkeypatch.setattr(sys, "path", [str(BENCH), *sys.path])
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, f"bench_{name}", module)
        spec.loader.exec_module(module)
        return module

    return load
