"""Ways to play a WAV file; each ``play(path)`` blocks until the sound has finished.

* ``CommandPlayer`` runs ``aplay`` (ALSA) or ``paplay`` (PulseAudio/PipeWire).
* ``KivyPlayer`` plays through Kivy's SDL2 audio (the board app already has SDL).
* ``FilePlayer`` copies every file it is asked to play into a folder and logs it:
  a machine without a sound card still shows exactly what would have been heard.
* ``NullPlayer`` only remembers what it was given.

``make_player("auto")`` picks aplay, then paplay, then the null player.

``play`` takes an optional ``on_start()`` that the player calls the moment the sound
really begins (after loading, decoding or spawning), so the caller can time it.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class Player(Protocol):
    name: str

    def play(self, path: Path, on_start: Callable[[], None] | None = None) -> None:
        """Play ``path`` and return when it has finished; ``on_start()`` when it begins."""


def _started(on_start: Callable[[], None] | None) -> None:
    if on_start is not None:
        try:
            on_start()
        except Exception:  # a broken hook must not cost the announcement
            log.exception("on_start hook failed")


def wav_duration(path: str | os.PathLike) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


class NullPlayer:
    """Plays nothing; keeps the paths it was given (newest last)."""

    name = "null"

    def __init__(self) -> None:
        self.played: list[Path] = []

    def play(self, path: Path, on_start: Callable[[], None] | None = None) -> None:
        _started(on_start)
        self.played.append(Path(path))


class FilePlayer:
    """Copies each announcement to ``directory`` as ``0001.wav``, ``0002.wav``… and
    appends a line to ``played.log``. With ``realtime=True`` it also takes as long
    as the sound lasts, like a real speaker would."""

    name = "file"

    def __init__(self, directory: str | os.PathLike, realtime: bool = False) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.realtime = realtime
        self.played: list[Path] = []
        self._lock = threading.Lock()

    def play(self, path: Path, on_start: Callable[[], None] | None = None) -> None:
        with self._lock:
            target = self.directory / f"{len(self.played) + 1:04d}.wav"
            shutil.copyfile(path, target)
            self.played.append(target)
            duration = wav_duration(target)
            with open(self.directory / "played.log", "a", encoding="utf-8") as f:
                f.write(f"{time.time():.3f}\t{target.name}\t{duration:.3f}\t{Path(path).name}\n")
        _started(on_start)
        if self.realtime:
            time.sleep(duration)


class CommandPlayer:
    """``aplay -q FILE`` or ``paplay FILE``; a hung player is killed after the sound's
    length plus ``grace_s``, so one bad device never stalls the queue forever."""

    def __init__(self, command: str, grace_s: float = 10.0) -> None:
        exe = shutil.which(command)
        if not exe:
            raise FileNotFoundError(f"{command} is not installed")
        self.name = command
        self.argv = [exe, "-q"] if command == "aplay" else [exe]
        self.grace_s = grace_s

    def play(self, path: Path, on_start: Callable[[], None] | None = None) -> None:
        timeout = wav_duration(path) + self.grace_s
        proc = subprocess.Popen([*self.argv, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _started(on_start)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            log.error("%s did not finish %s within %.1f s; killed", self.name, path, timeout)
            return
        if proc.returncode != 0:
            log.error("%s failed on %s: %s", self.name, path, err.decode(errors="replace").strip())


class KivyPlayer:
    """Plays through Kivy's audio provider (SDL2). Import Kivy lazily: only a Kivy app
    uses it. Without an audio device SDL loads nothing; that is logged, not raised."""

    name = "kivy"

    def __init__(self, poll_s: float = 0.02) -> None:
        self.poll_s = poll_s

    def play(self, path: Path, on_start: Callable[[], None] | None = None) -> None:
        from kivy.core.audio import SoundLoader

        sound = SoundLoader.load(str(path))
        if sound is None:
            log.error("Kivy could not load %s (no audio device?)", path)
            return
        duration = sound.length if sound.length and sound.length > 0 else wav_duration(path)
        sound.play()
        _started(on_start)
        # on_stop is not reliable without a device: wait for the known length, then unload.
        deadline = time.monotonic() + duration + 0.2
        while time.monotonic() < deadline and sound.state == "play":
            time.sleep(self.poll_s)
        sound.stop()
        sound.unload()


PLAYER_NAMES = ("auto", "aplay", "paplay", "kivy", "null", "file:DIR")


def make_player(spec: str = "auto") -> Player:
    """``auto`` | ``aplay`` | ``paplay`` | ``kivy`` | ``null`` | ``file:DIR``."""
    if spec.startswith("file:"):
        return FilePlayer(spec[len("file:"):] or ".")
    if spec == "null":
        return NullPlayer()
    if spec == "kivy":
        return KivyPlayer()
    if spec in ("aplay", "paplay"):
        return CommandPlayer(spec)
    if spec == "auto":
        for command in ("aplay", "paplay"):
            if shutil.which(command):
                return CommandPlayer(command)
        log.warning("neither aplay nor paplay is installed: announcements are not played")
        return NullPlayer()
    raise ValueError(f"unknown player {spec!r}; expected one of {', '.join(PLAYER_NAMES)}")
