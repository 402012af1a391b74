"""Shared helpers for the deploy tests."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def pytest_configure(config):
    config.addinivalue_line("markers", "debootstrap: builds a real Debian root with debootstrap (network, root, ~2 min)")


@pytest.fixture(autouse=True)
def _clean_talon_env(monkeypatch):
    """No TALON_* settings of the developer's shell leak into a test."""
    for key in list(os.environ):
        if key.startswith("TALON_") or key in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            monkeypatch.delenv(key)


def talon(*args, env=None, check=True):
    """Run ``python -m talon ARGS`` from this checkout as a real process."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "talon", *args], cwd=REPO, env=full_env,
                          check=False, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"talon {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="talon setup applies only as root")
has_systemctl = shutil.which("systemctl") is not None


def snapshot_source(dest: Path) -> Path:
    """A frozen copy of this checkout to install from (others may edit the live tree meanwhile)."""
    shutil.copytree(REPO, dest, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "tests", "__pycache__", "*.pyc", "*.egg-info", "build", "dist", "data",
        ".pytest_cache", ".ruff_cache", "node_modules", "*.db", "*.db-wal", "*.db-shm"))
    return dest
