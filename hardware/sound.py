"""Call announcements: a two-tone chime and an offline Russian voice, one WAV per call,
played one after another by a single worker so announcements never overlap or get lost.

    cache = SoundCache("/var/cache/talon/sound")          # voice + announcement WAVs
    announcer = Announcer(cache, make_player("auto"), repeat=1)
    announcer.start()
    announcer.announce("А042", 3)    # «динь-дон. Талон а сорок два, окно номер три.»

The voice is rendered by ``espeak-ng`` (always available from apt), or by RHVoice
(``RHVoice-test``, Debian non-free) when it is installed and asked for. Everything is
cached on disk by phrase and settings, so a repeated call costs a file lookup.
"""
from __future__ import annotations

import array
import dataclasses
import functools
import hashlib
import inspect
import json
import logging
import math
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hardware.ru_numerals import announcement_text
from hardware.sound_players import FilePlayer, NullPlayer, Player, make_player  # noqa: F401 (re-export)

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050  # espeak-ng's native rate: no resampling in the common case
CACHE_FORMAT = 1  # bump when the way files are composed changes

# --------------------------------------------------------------------------- WAV helpers


def tone(freq: float, seconds: float, rate: int = SAMPLE_RATE, amplitude: float = 0.5,
         fade_s: float = 0.015) -> array.array:
    """A sine tone as 16-bit samples, with short fades so it does not click."""
    n = int(seconds * rate)
    fade = max(1, int(fade_s * rate))
    peak = amplitude * 32767
    out = array.array("h", bytes(2 * n))
    for i in range(n):
        env = min(1.0, i / fade, (n - 1 - i) / fade)
        out[i] = int(peak * env * math.sin(2 * math.pi * freq * i / rate))
    return out


def silence(seconds: float, rate: int = SAMPLE_RATE) -> array.array:
    return array.array("h", bytes(2 * int(seconds * rate)))


CHIME_TONES: tuple[tuple[float, float], ...] = ((880.0, 0.30), (659.25, 0.45))  # A5 then E5: «динь-дон»


def chime(rate: int = SAMPLE_RATE, tones: tuple[tuple[float, float], ...] = CHIME_TONES,
          amplitude: float = 0.5) -> array.array:
    """The attention chime: two tones with a short gap (a fresh copy; computed once)."""
    return array.array("h", _chime(rate, tuple(tones), amplitude))


@functools.lru_cache(maxsize=4)
def _chime(rate: int, tones: tuple[tuple[float, float], ...], amplitude: float) -> array.array:
    out = array.array("h")
    for i, (freq, seconds) in enumerate(tones):
        if i:
            out += silence(0.04, rate)
        out += tone(freq, seconds, rate, amplitude)
    return out


def write_wav(path: str | os.PathLike, samples: array.array, rate: int = SAMPLE_RATE) -> Path:
    """Write mono 16-bit PCM atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    os.close(fd)
    try:
        with wave.open(tmp, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            data = samples if sys.byteorder == "little" else _swapped(samples)
            w.writeframes(data.tobytes())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _swapped(samples: array.array) -> array.array:
    copy = array.array("h", samples)
    copy.byteswap()
    return copy


def read_wav(path: str | os.PathLike) -> tuple[array.array, int]:
    """Mono 16-bit samples and the rate of a PCM WAV (8/16-bit, mono or stereo)."""
    with wave.open(str(path), "rb") as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if width == 1:
        samples = array.array("h", ((b - 128) << 8 for b in raw))
    elif width == 2:
        samples = array.array("h")
        samples.frombytes(raw)
        if sys.byteorder != "little":
            samples.byteswap()
    else:
        raise ValueError(f"{path}: {8 * width}-bit WAV is not supported")
    if channels > 1:
        samples = array.array("h", (sum(samples[i:i + channels]) // channels
                                    for i in range(0, len(samples), channels)))
    return samples, rate


def resample(samples: array.array, src: int, dst: int) -> array.array:
    """Linear-interpolation resampling; good enough for speech on a hall speaker."""
    if src == dst or not samples:
        return samples
    n = max(1, int(len(samples) * dst / src))
    step = src / dst
    last = len(samples) - 1
    out = array.array("h", bytes(2 * n))
    for i in range(n):
        pos = i * step
        j = int(pos)
        if j >= last:
            out[i] = samples[last]
        else:
            frac = pos - j
            out[i] = int(samples[j] + (samples[j + 1] - samples[j]) * frac)
    return out


def scale(samples: array.array, volume: float) -> array.array:
    """Multiply by ``volume`` (0..2), clipping to 16 bits."""
    if volume == 1.0:
        return samples
    return array.array("h", (max(-32768, min(32767, int(s * volume))) for s in samples))


def rms(samples: array.array) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


# --------------------------------------------------------------------------- the voice


@dataclass(frozen=True)
class VoiceSettings:
    """How the voice is rendered; every field is part of the cache key.

    ``engine``: ``espeak-ng``, ``rhvoice`` or ``auto`` (RHVoice when installed,
    else espeak-ng). ``voice``: espeak voice (``ru``) or RHVoice profile
    (``aleksandr``, ``anna``, ``elena``…). ``speed`` is words per minute for
    espeak-ng (its default is 175; 140 is easier to follow in a noisy hall).
    """

    engine: str = "espeak-ng"
    voice: str = "ru"
    speed: int = 140
    pitch: int = 50
    lang: str = "ru"

    def resolved(self) -> "VoiceSettings":
        if self.engine != "auto":
            return self
        if shutil.which("RHVoice-test"):
            return dataclasses.replace(self, engine="rhvoice", voice="aleksandr" if self.voice == "ru" else self.voice)
        return dataclasses.replace(self, engine="espeak-ng")

    def key(self) -> dict:
        return dataclasses.asdict(self.resolved())


class VoiceUnavailable(RuntimeError):
    """No speech engine is installed (or it failed): announce with the chime alone."""


def render_voice(text: str, path: str | os.PathLike, settings: VoiceSettings) -> Path:
    """Speak ``text`` into a WAV file with the configured offline engine."""
    s = settings.resolved()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".wav.part")
    os.close(fd)
    try:
        if s.engine == "rhvoice":
            exe = shutil.which("RHVoice-test")
            if not exe:
                raise VoiceUnavailable("RHVoice-test is not installed")
            argv = [exe, "-p", s.voice, "-o", tmp]
            proc = subprocess.run(argv, input=text.encode(), capture_output=True, timeout=30)
        elif s.engine == "espeak-ng":
            exe = shutil.which("espeak-ng") or shutil.which("espeak")
            if not exe:
                raise VoiceUnavailable("espeak-ng is not installed (apt install espeak-ng)")
            voice = "en" if s.lang == "en" and s.voice == "ru" else s.voice
            argv = [exe, "-v", voice, "-s", str(s.speed), "-p", str(s.pitch), "-w", tmp, "--", text]
            proc = subprocess.run(argv, capture_output=True, timeout=30)
        else:
            raise ValueError(f"unknown speech engine {s.engine!r}")
        if proc.returncode != 0 or os.path.getsize(tmp) <= 44:
            raise VoiceUnavailable(f"{s.engine} failed: {proc.stderr.decode(errors='replace').strip()}")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def voice_available(settings: VoiceSettings | None = None) -> bool:
    s = (settings or VoiceSettings()).resolved()
    return bool(shutil.which("RHVoice-test") if s.engine == "rhvoice" else
                (shutil.which("espeak-ng") or shutil.which("espeak")))


# --------------------------------------------------------------------------- the cache


@dataclass(frozen=True)
class AnnouncementSettings:
    """What shapes one announcement file (all of it is in the cache key)."""

    voice_on: bool = True
    repeat: int = 1            # how many times the sentence is spoken after the chime
    volume: float = 1.0        # 0..2, applied to the samples
    lang: str = "ru"
    gap_s: float = 0.6         # pause between the chime and the voice and between repeats


class SoundCache:
    """Renders and keeps WAVs on disk: ``voice-<hash>.wav`` per phrase and settings,
    ``call-<hash>.wav`` per whole announcement. Safe to share between threads and
    processes (files are written atomically; a race only renders twice)."""

    def __init__(self, directory: str | os.PathLike | None = None,
                 voice: VoiceSettings | None = None, rate: int = SAMPLE_RATE) -> None:
        if directory is None:
            directory = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "talon" / "sound"
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.voice = voice or VoiceSettings()
        self.rate = rate
        self.renders = 0  # voice renders done by this object (cache misses)

    def _key(self, kind: str, payload: dict) -> str:
        blob = json.dumps({"kind": kind, "format": CACHE_FORMAT, "rate": self.rate, **payload},
                          sort_keys=True, ensure_ascii=False)
        return f"{kind}-{hashlib.sha1(blob.encode()).hexdigest()[:20]}.wav"

    def chime_path(self) -> Path:
        path = self.directory / self._key("chime", {"tones": CHIME_TONES})
        if not path.exists():
            write_wav(path, chime(self.rate), self.rate)
        return path

    def voice_path(self, text: str, settings: VoiceSettings | None = None) -> Path:
        settings = settings or self.voice
        path = self.directory / self._key("voice", {"text": text, "voice": settings.key()})
        if not path.exists():
            render_voice(text, path, settings)
            self.renders += 1
        return path

    def voice_samples(self, text: str, settings: VoiceSettings | None = None) -> array.array:
        samples, rate = read_wav(self.voice_path(text, settings))
        return resample(samples, rate, self.rate)

    def announcement_path(self, ticket: str, window: int | str,
                          settings: AnnouncementSettings = AnnouncementSettings()) -> Path:
        """The whole announcement: chime, then the sentence ``repeat`` times."""
        voice = dataclasses.replace(self.voice, lang=settings.lang)
        text = announcement_text(ticket, window, settings.lang)
        payload = {"text": text, "voice": voice.key() if settings.voice_on else None,
                   "settings": dataclasses.asdict(settings), "tones": CHIME_TONES}
        path = self.directory / self._key("call", payload)
        if path.exists():
            return path
        samples = chime(self.rate)
        if settings.voice_on and settings.repeat > 0:
            try:
                spoken = self.voice_samples(text, voice)
            except VoiceUnavailable as exc:
                log.error("voice unavailable, chime only: %s", exc)
                spoken = None
                path = self.directory / self._key("call", {**payload, "voice": None})
            if spoken is not None:
                for _ in range(settings.repeat):
                    samples += silence(settings.gap_s, self.rate)
                    samples += spoken
        samples += silence(0.3, self.rate)  # a tail so the last syllable is not clipped by the device
        return write_wav(path, scale(samples, settings.volume), self.rate)

    def prerender(self, tickets: list[str], windows: list[int],
                  settings: AnnouncementSettings = AnnouncementSettings(),
                  stop: threading.Event | None = None) -> int:
        """Render ahead of time (e.g. the first tickets of each topic for each window);
        returns how many announcements are ready. ``stop`` ends it early."""
        done = 0
        for t in tickets:
            for w in windows:
                if stop is not None and stop.is_set():
                    return done
                self.announcement_path(t, w, settings)
                done += 1
        return done


PRERENDER_FIRST = 10      # tickets of each prefix rendered ahead for every window
PRERENDER_MAX = 300       # never more files than this in one go (big offices)


def first_tickets(prefixes: list[str], windows: list[int], first: int = PRERENDER_FIRST,
                  limit: int = PRERENDER_MAX) -> list[str]:
    """``А001…А010``, ``К001…`` for each prefix, fewer when windows × tickets would exceed ``limit``."""
    per_prefix = max(1, min(first, limit // max(1, len(prefixes) * max(1, len(windows)))))
    return [f"{p}{n:03d}" for n in range(1, per_prefix + 1) for p in prefixes]


# --------------------------------------------------------------------------- the queue


@dataclass
class Announcement:
    ticket: str
    window: int | str
    recall: bool = False
    queued_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    path: Path | None = None
    merged: int = 0   # duplicates folded into this one
    settings: AnnouncementSettings = field(default_factory=AnnouncementSettings)


@dataclass
class _Stop:
    pass


class Announcer:
    """One worker thread plays announcements strictly one after another.

    Nothing is dropped: the queue is unbounded, a failed render falls back to the
    chime and a failed player is logged. A recall is always announced again.
    Identical calls (same ticket and window, not a recall) that arrive within
    ``merge_window_s`` while the first one still waits are folded into it; the
    default 0 never merges.
    """

    def __init__(self, cache: SoundCache | None, player: Player, *, repeat: int = 1,
                 voice: bool = True, volume: float = 1.0, lang: str = "ru",
                 merge_window_s: float = 0.0, clock: Callable[[], float] = time.monotonic,
                 history: int = 100, on_start: Callable[[Announcement], None] | None = None,
                 on_finish: Callable[[Announcement], None] | None = None) -> None:
        self.cache = cache
        self.player = player
        self.settings = AnnouncementSettings(voice_on=voice, repeat=repeat, volume=volume, lang=lang)
        self.merge_window_s = merge_window_s
        self.clock = clock
        self._queue: queue.Queue[Announcement | _Stop] = queue.Queue()
        self._pending: list[Announcement] = []   # queued, not yet started (for merging)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        self._thread: threading.Thread | None = None
        self.played: deque[Announcement] = deque(maxlen=history)
        self.errors = 0
        self.on_start = on_start      # the sound really began (player-reported when it can)
        self.on_finish = on_finish    # played (or failed); after ``finished_at``
        self._prerender_key: tuple | None = None
        self._prerender_stop = threading.Event()
        self.prerendered = threading.Event()   # set when the last prepare() finished
        self.prerender_count = 0

    # -- settings ------------------------------------------------------------------
    def configure(self, *, repeat: int | None = None, voice: bool | None = None,
                  volume: float | None = None, lang: str | None = None) -> None:
        changes = {k: v for k, v in {"repeat": repeat, "voice_on": voice, "volume": volume,
                                      "lang": lang}.items() if v is not None}
        with self._lock:
            self.settings = dataclasses.replace(self.settings, **changes)

    # -- life cycle ----------------------------------------------------------------
    def start(self) -> "Announcer":
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        """Play what is queued, then stop the worker."""
        self._prerender_stop.set()
        if self._thread is None:
            return
        self._queue.put(_Stop())
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> "Announcer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- use -----------------------------------------------------------------------
    def announce(self, ticket: str, window: int | str, recall: bool = False) -> Announcement:
        """Queue an announcement with the settings in force now; returns it (or the
        queued one it was merged into)."""
        now = self.clock()
        with self._lock:
            if self.merge_window_s > 0 and not recall:
                for a in self._pending:
                    if (a.ticket, str(a.window), a.recall) == (ticket, str(window), False) \
                            and now - a.queued_at <= self.merge_window_s:
                        a.merged += 1
                        return a
            item = Announcement(ticket, window, recall, queued_at=now, settings=self.settings)
            self._pending.append(item)
            self._busy += 1
        self._queue.put(item)
        return item

    def prepare(self, prefixes: list[str], windows: list[int], first: int = PRERENDER_FIRST) -> bool:
        """Render the first calls of the day (``first`` tickets of each prefix for every
        window, with the current settings) on a background thread, so the morning's
        first announcements start at once. Returns False when nothing new was asked."""
        if self.cache is None or not prefixes or not windows:
            self.prerendered.set()
            return False
        settings = self.settings
        key = (tuple(prefixes), tuple(windows), first, settings)
        with self._lock:
            if key == self._prerender_key:
                return False
            self._prerender_key = key
        self.prerendered.clear()
        tickets = first_tickets(prefixes, windows, first)

        def work() -> None:
            began = time.monotonic()
            try:
                self.cache.chime_path()
                self.prerender_count = self.cache.prerender(tickets, windows, settings, stop=self._prerender_stop)
                log.info("prerendered %d announcements in %.1f s", self.prerender_count, time.monotonic() - began)
            except Exception:
                log.exception("prerendering announcements failed; they are rendered when called")
            finally:
                if key == self._prerender_key:
                    self.prerendered.set()

        threading.Thread(target=work, name="announce-prerender", daemon=True).start()
        return True

    @property
    def pending(self) -> int:
        with self._lock:
            return self._busy

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until everything queued has been played; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def render(self, item: Announcement) -> Path | None:
        if self.cache is None:
            return None
        return self.cache.announcement_path(item.ticket, item.window, item.settings)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if isinstance(item, _Stop):
                return
            with self._lock:
                self._pending.remove(item)
            try:
                item.path = self.render(item)
                if item.path is not None:
                    self._play(item)
                else:
                    self._started(item)
                item.finished_at = self.clock()
            except Exception:  # never let one bad announcement stop the ones after it
                self.errors += 1
                log.exception("announcement %s → %s failed", item.ticket, item.window)
            finally:
                self._hook(self.on_finish, item)
                with self._idle:
                    self.played.append(item)
                    self._busy -= 1
                    self._idle.notify_all()

    def _play(self, item: Announcement) -> None:
        if _accepts_on_start(self.player):
            self.player.play(item.path, on_start=lambda: self._started(item))
        else:  # a player without the hook: the closest we know is just before it
            self._started(item)
            self.player.play(item.path)

    def _started(self, item: Announcement) -> None:
        if item.started_at is None:
            item.started_at = self.clock()
            self._hook(self.on_start, item)

    @staticmethod
    def _hook(hook: Callable[[Announcement], None] | None, item: Announcement) -> None:
        if hook is not None:
            try:
                hook(item)
            except Exception:
                log.exception("announcer hook %r failed", hook)


def _accepts_on_start(player: Player) -> bool:
    try:
        return "on_start" in inspect.signature(player.play).parameters
    except (TypeError, ValueError):
        return False
