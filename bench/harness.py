"""What every benchmark (and the end-to-end drills in ``tests/e2e``) needs around the code it measures.

A temporary office on disk with provisioned devices, a ``talon hub`` child process,
figures from ``/proc`` (resident memory, CPU time), percentiles and medians, and a
clean stop for child processes. Nothing here is measured itself.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from host.ports import free_port

__all__ = ["free_port", "office_toml", "BenchOffice", "rss_mb", "cpu_seconds", "percentile", "median_ms",
           "stop_process", "wait_ready"]

ALL_DAY = {d: "00:00-23:59" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def office_toml(windows: int, office: str = "bench", name: str = "Bench office", timezone: str | None = None) -> str:
    """An МЭК office with topics A and R at every window, open around the clock so a run
    never depends on the hour it starts."""
    hours = ", ".join(f'{d} = "{h}"' for d, h in ALL_DAY.items())
    zone = f'timezone = "{timezone}"\n' if timezone else ""
    text = (f'[office]\nid = "{office}"\nname = "{name}"\nprofile = "mek"\n{zone}\n'
            '[[topics]]\ncode = "A"\nform = "admin"\n\n[[topics]]\ncode = "R"\nform = "oprsn"\n')
    text += "".join(f'\n[[windows]]\nnumber = {n}\ntopics = ["A", "R"]\n' for n in range(1, windows + 1))
    return text + f"\n[calendar]\nhours = {{ {hours} }}\n"


class BenchOffice:
    """A temporary office folder: ``office.toml``, a durable SQLite file, provisioned devices.

    The folder is world-readable because mosquitto runs as its own user and must reach
    the files the hub writes for it.
    """

    def __init__(self, prefix: str, windows: int, office: str = "bench"):
        self.dir = Path(tempfile.mkdtemp(prefix=f"talon-{prefix}-"))
        os.chmod(self.dir, 0o755)
        self.office, self.windows = office, windows
        self.config_path = self.dir / "office.toml"
        self.config_path.write_text(office_toml(windows, office), encoding="utf-8")
        self.database_url = f"sqlite:///{self.dir / 'talon.db'}"
        self.passwords: dict[str, str] = {}

    def provision(self, devices: Iterable[tuple[str, str, int | None]]) -> dict[str, str]:
        """Add ``(device, role, window)`` to the office's directory; returns their passwords."""
        from storage import directory

        self.passwords.update(directory.provision(self.database_url, self.office, devices))
        return self.passwords

    def client(self, broker_url: str, device: str, role: str, authenticated: bool = True):
        """A ``HubClient`` for a provisioned device (not started)."""
        from broker.client import HubClient

        return HubClient(broker_url, self.office, device, role,
                         password=self.passwords[device] if authenticated else None)

    def hub_args(self, port: int, *extra: str) -> list[str]:
        return [sys.executable, "-m", "talon", "hub", "--config", str(self.config_path), "--data", str(self.dir),
                "--port", str(port), "--no-web", *extra]

    def start_hub(self, port: int, *extra: str, log_level: str = "WARNING") -> subprocess.Popen:
        """``talon hub`` as a child process, its output in ``hub.log`` of the folder."""
        with (self.dir / "hub.log").open("a") as log:
            return subprocess.Popen(self.hub_args(port, *extra), stdout=log, stderr=subprocess.STDOUT,
                                    env={**os.environ, "TALON_LOG": log_level})


def wait_ready(clients: list, probe, timeout: float = 30.0) -> None:
    """Wait until every client is connected and ``probe()`` (e.g. a ping) succeeds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(c.wait_ready(0.1) for c in clients):
            try:
                probe()
                return
            except Exception:
                time.sleep(0.05)
    raise TimeoutError("the hub did not answer within %.0f s" % timeout)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def rss_mb(pid: int, with_children: bool = True) -> float:
    """Resident memory of a process (and its children: mosquitto is the hub's child), in MB."""
    total = 0
    for p in [pid, *(_children(pid) if with_children else [])]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(samples: list[float], q: float, digits: int = 2) -> float | None:
    """The q-quantile by nearest rank (``q=1`` is the maximum); None for no samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], digits)


def median_ms(action: Callable[[], object], repeat: int, warmup: bool = True) -> float:
    """Median wall time of ``action()`` in milliseconds (after one warm-up call)."""
    if warmup:
        action()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(samples), 3)


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM a benchmark's child process (a hub, a board), SIGKILL it if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
