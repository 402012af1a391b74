"""The kiosk's «Озвучить»: any sentence read aloud with the board's voice.

    speaker = Speaker(SoundCache(), make_player("auto")).start()
    speaker.say("Ваш талон: а пятнадцать.", "ru")

The same engine and cache as the hall board (``hardware.sound``: espeak-ng or RHVoice,
WAVs cached by phrase); one worker thread renders and plays, newest sentence wins
(a visitor pressing «Озвучить» twice hears it once, not twice in a row).
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path

from hardware.sound import SoundCache, VoiceUnavailable
from hardware.sound_players import Player

log = logging.getLogger(__name__)


class Speaker:
    def __init__(self, cache: SoundCache, player: Player) -> None:
        self.cache = cache
        self.player = player
        self.spoken: list[Path] = []        # the WAVs played, newest last
        self._next: tuple[str, str] | None = None
        self._wake = threading.Condition()
        self._busy = False
        self._stopped = False
        self._thread: threading.Thread | None = None

    def start(self) -> "Speaker":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kiosk-voice", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify_all()

    def __call__(self, sentence: str, lang: str = "ru") -> None:
        self.say(sentence, lang)

    def say(self, sentence: str, lang: str = "ru") -> None:
        """Queue ``sentence`` (replacing one not yet started); returns at once."""
        with self._wake:
            self._next = (sentence, lang)
            self._wake.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._wake:
            return self._wake.wait_for(lambda: self._next is None and not self._busy, timeout)

    def speak_now(self, sentence: str, lang: str = "ru") -> Path | None:
        """Render and play ``sentence`` on this thread; the WAV played, or None."""
        voice = dataclasses.replace(self.cache.voice, lang=lang)
        try:
            path = self.cache.voice_path(sentence, voice)
        except VoiceUnavailable as exc:
            log.error("no voice for «Озвучить»: %s", exc)
            return None
        self.player.play(path)
        self.spoken.append(path)
        return path

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._next is not None or self._stopped)
                if self._stopped:
                    return
                sentence, lang = self._next  # type: ignore[misc]
                self._next, self._busy = None, True
            try:
                self.speak_now(sentence, lang)
            except Exception:
                log.exception("reading aloud failed")
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()
