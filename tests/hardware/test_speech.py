"""«Озвучить» on the kiosk: the board's voice (espeak-ng) into a WAV, played by the fake player."""
import shutil

import pytest

from hardware.sound import SoundCache, read_wav
from hardware.sound_players import FilePlayer
from hardware.speech import Speaker

pytestmark = pytest.mark.skipif(not (shutil.which("espeak-ng") or shutil.which("espeak")),
                                reason="no speech engine (apt install espeak-ng)")


def test_speaker_reads_a_sentence_into_a_wav_and_plays_it(tmp_path):
    player = FilePlayer(tmp_path / "played")
    speaker = Speaker(SoundCache(tmp_path / "cache"), player).start()
    try:
        speaker.say("Ваш талон: а пятнадцать.", "ru")
        assert speaker.wait_idle(30)
    finally:
        speaker.stop()
    assert len(player.played) == 1
    samples, rate = read_wav(player.played[0])
    assert len(samples) / rate > 0.8  # a spoken sentence, not an empty file
    assert max(abs(s) for s in samples) > 1000


def test_speaker_newest_sentence_wins_and_is_cached(tmp_path):
    player = FilePlayer(tmp_path / "played")
    cache = SoundCache(tmp_path / "cache")
    speaker = Speaker(cache, player)
    first = speaker.speak_now("Выберите тему обращения.", "ru")
    again = speaker.speak_now("Выберите тему обращения.", "ru")
    assert first == again and cache.renders == 1
    english = speaker.speak_now("Please choose a topic.", "en")
    assert english != first and len(player.played) == 3
