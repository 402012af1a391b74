"""Benchmark ``board``: a real hub (mosquitto, dispatcher, SQLite) and a real board
process (``python -m talon board``, offscreen Kivy, SDL audio), timed from outside.

* ``next_to_frame_ms``: a counter publishes *Next* → the board swaps the first frame
  that shows the called number (p50, p99);
* ``next_to_sound_ms``: the same *Next* → the announcement starts playing (SDL audio
  with the ``disk`` driver, i.e. the PCM really goes out, in real time);
* ``idle_cpu_pct``: the board's CPU over ~10 s with nothing happening (% of one core,
  from ``/proc/<pid>/stat``); ``rss_mb``: its resident memory afterwards.

The board writes timing marks to ``TALON_TRACE_FILE`` (see ``display_board.trace``);
calls are made one at a time, each after the previous announcement ended (an office's
real rhythm: nobody is called while the speaker is still talking).
Run ``talon bench board [--quick] [--json]``.

``BoardOffice`` and ``BoardProcess`` are reused by the end-to-end drills.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import cpu_seconds, free_port, office_toml, percentile, rss_mb
from display_board.trace import read_marks

GOALS = {"next_to_frame_ms.p99": ("<=", 50), "next_to_sound_ms.p99": ("<=", 200),
         "idle_cpu_pct": ("<=", 5), "rss_mb": ("<=", 200)}

OFFICE = "bench"
ROOT = Path(__file__).resolve().parent.parent


class BoardOffice:
    """A whole hub in this process (``OfficeRuntime`` with a supervised mosquitto) and
    provisioned devices: ``kiosk-1``, ``counter-<n>`` for every window, ``board-1``
    and ``board-w<n>`` (per-window displays)."""

    def __init__(self, folder: str | os.PathLike, windows: int = 3, clock=None):
        self.dir = Path(folder)
        self.windows = windows
        self.clock = clock
        self.passwords: dict[str, str] = {}
        self.runtime = None
        self._clients: list = []

    def start(self) -> "BoardOffice":
        from hub.runtime import OfficeRuntime, RuntimeSettings
        from queue_core.config import parse_office_toml
        from storage import directory

        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)       # mosquitto runs as its own user and must reach its files
        config = parse_office_toml(office_toml(self.windows))
        self.runtime = OfficeRuntime(RuntimeSettings(
            config=config, data_dir=self.dir, database_url=f"sqlite:///{self.dir / 'talon.db'}",
            broker_kind="mosquitto", port=free_port(), web_port=None, clock=self.clock))
        devices = [("kiosk-1", "kiosk", None), ("board-1", "board", None)]
        for n in range(1, self.windows + 1):
            devices += [(f"counter-{n}", "counter", n), (f"board-w{n}", "board", None)]
        with self.runtime.db.sessions() as s, s.begin():
            self.passwords.update(directory.add_devices(s, OFFICE, devices))
        self.runtime.start()
        return self

    @property
    def url(self) -> str:
        return self.runtime.broker_url

    def client(self, device: str, role: str, start: bool = True, timeout: float = 20.0):
        """A HubClient for a provisioned device, connected and subscribed (bounded wait)."""
        from broker.client import HubClient

        c = HubClient(self.url, OFFICE, device, role, password=self.passwords[device])
        self._clients.append(c)
        if start:
            c.start()
            if not c.wait_ready(timeout):
                raise RuntimeError(f"{device} could not connect to {self.url}")
        return c

    def stop(self) -> None:
        for c in reversed(self._clients):
            try:
                c.stop()
            except Exception:
                pass
        if self.runtime is not None:
            self.runtime.stop()


class BoardProcess:
    """``python -m talon board`` as a child process: offscreen Kivy, SDL audio written to
    a file (``audio="disk"``) or thrown away (``"dummy"``), timing marks in ``trace``."""

    def __init__(self, office: BoardOffice, folder: str | os.PathLike, device: str = "board-1",
                 args: list[str] | None = None, audio: str = "disk"):
        self.office, self.device = office, device
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.trace = self.dir / "trace.log"
        self.audio_file = self.dir / "audio.raw"
        self.log = self.dir / "board.log"
        self.args = ["--player", "kivy", "--sound-dir", str(self.dir / "sound"), *(args or [])]
        self.audio = audio
        self.proc: subprocess.Popen | None = None

    def start(self) -> "BoardProcess":
        env = {**os.environ, "TALON_TRACE_FILE": str(self.trace), "TALON_DEVICE_PASSWORD":
               self.office.passwords[self.device], "TALON_LOG": os.environ.get("TALON_LOG", "WARNING"),
               "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": self.audio,
               "SDL_DISKAUDIOFILE": str(self.audio_file), "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1",
               "KIVY_NO_FILELOG": "1", "KIVY_HOME": str(self.dir / "kivy-home")}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        argv = [sys.executable, "-m", "talon", "board", "--broker", self.office.url, "--office", OFFICE,
                "--device", self.device, *self.args]
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=str(self.dir))
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def marks(self, kind: str | None = None, what: str | None = None) -> list[tuple[str, str, float]]:
        return [m for m in read_marks(self.trace)
                if (kind is None or m[0] == kind) and (what is None or m[1] == what)]

    def wait_mark(self, kind: str, what: str | None = None, timeout: float = 20.0, after: float = 0.0,
                  count: int = 1) -> float:
        """Time of the ``count``-th mark ``kind [what]`` written at or after ``after``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m[2] for m in self.marks(kind, what) if m[2] >= after]
            if len(found) >= count:
                return found[count - 1]
            if self.proc.poll() is not None:
                raise RuntimeError(f"the board exited ({self.proc.returncode}); see {self.log}:\n"
                                   + self.log.read_text(errors="replace")[-3000:])
            if time.monotonic() > deadline:
                raise TimeoutError(f"no '{kind} {what or ''}' mark within {timeout} s; marks: {self.marks()[-10:]}")
            time.sleep(0.005)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


QUICK_CALLS, FULL_CALLS = 3, 30

def run(quick: bool = False) -> dict:
    from hub.brokers import find_mosquitto

    if not find_mosquitto():
        return {"skipped": "mosquitto is not installed"}
    calls = QUICK_CALLS if quick else FULL_CALLS
    idle_s = 3.0 if quick else 10.0
    tmp = Path(tempfile.mkdtemp(prefix="talon-bench-board-"))
    office = BoardOffice(tmp / "hub", windows=3)
    board = None
    try:
        office.start()
        kiosk = office.client("kiosk-1", "kiosk")
        counters = {n: office.client(f"counter-{n}", "counter") for n in (1, 2, 3)}
        for n, c in counters.items():
            c.request("open", {"window": n}, timeout=10)
        for i in range(calls):
            kiosk.request("issue", {"topic": "AR"[i % 2], "kind": "walk_in"}, timeout=10)
        began = time.time()
        board = BoardProcess(office, tmp / "board", args=["--min-display", "0"]).start()
        board.wait_mark("connected", timeout=60)
        started_s = time.time() - began
        board.wait_mark("prerendered", timeout=120)
        prerender_s = time.time() - began
        prerendered = int(board.marks("prerendered")[-1][1])
        frame_ms, sound_ms, flashes = [], [], 0
        for i in range(calls):
            n = 1 + i % 3
            t0 = time.time()
            ticket = counters[n].request("call_next", {"window": n}, timeout=10)["ticket"]["number"]
            frame_ms.append((board.wait_mark("frame", ticket, after=t0) - t0) * 1000)
            sound_ms.append((board.wait_mark("sound_start", ticket, after=t0) - t0) * 1000)
            flashes += bool(board.marks("flash", ticket))
            board.wait_mark("sound_end", ticket, after=t0, timeout=30)
            counters[n].request("start", {"window": n}, timeout=10)
            counters[n].request("finish", {"window": n}, timeout=10)
        time.sleep(1.5)   # let the last blink and the clock tick settle
        cpu0, t0 = cpu_seconds(board.pid), time.monotonic()
        time.sleep(idle_s)
        idle = (cpu_seconds(board.pid) - cpu0) / (time.monotonic() - t0) * 100
        audio_mb = board.audio_file.stat().st_size / 1e6 if board.audio_file.exists() else 0.0
        return {
            "calls": calls,
            "next_to_frame_ms": {"p50": percentile(frame_ms, 0.5), "p99": percentile(frame_ms, 0.99), "max": percentile(frame_ms, 1)},
            "next_to_sound_ms": {"p50": percentile(sound_ms, 0.5), "p99": percentile(sound_ms, 0.99), "max": percentile(sound_ms, 1)},
            "idle_cpu_pct": round(idle, 2),
            "rss_mb": rss_mb(board.pid),
            "calls_blinked": flashes,
            "board_connected_s": round(started_s, 2),
            "prerendered": prerendered,
            "prerender_done_s": round(prerender_s, 2),
            "audio_written_mb": round(audio_mb, 2),
            "quick": quick,
            "note": "real hub + mosquitto in the bench process, the board as its own process (offscreen Kivy, "
                    "SDL disk audio, 1280x720); times from the counter's Next to the board's own marks",
        }
    finally:
        if board is not None:
            board.stop()
        office.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m bench.board", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.quick), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
