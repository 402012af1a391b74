"""Chime, voice, cache and the announcement queue (real WAV files, real espeak-ng)."""
import shutil
import threading
import time
import wave

import pytest

from hardware.sound import (
    CHIME_TONES,
    SAMPLE_RATE,
    AnnouncementSettings,
    Announcer,
    SoundCache,
    VoiceSettings,
    VoiceUnavailable,
    chime,
    read_wav,
    resample,
    rms,
    silence,
    tone,
    write_wav,
)
from hardware.sound_players import FilePlayer, NullPlayer, make_player, wav_duration

needs_espeak = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng not installed (apt install espeak-ng)")


def zero_crossings(samples) -> int:
    return sum(1 for a, b in zip(samples, samples[1:]) if (a < 0) != (b < 0))


def estimated_freq(samples, rate) -> float:
    return zero_crossings(samples) / 2 / (len(samples) / rate)


# --------------------------------------------------------------------------- chime


def test_sound_tone_frequency_by_zero_crossings():
    for freq in (440.0, 880.0, 1000.0):
        assert estimated_freq(tone(freq, 0.5), SAMPLE_RATE) == pytest.approx(freq, rel=0.02)


def test_sound_chime_has_two_tones_at_the_configured_frequencies(tmp_path):
    path = write_wav(tmp_path / "chime.wav", chime())
    samples, rate = read_wav(path)
    assert rate == SAMPLE_RATE
    (f1, d1), (f2, d2) = CHIME_TONES
    first = samples[: int(d1 * rate)]
    second = samples[-int(d2 * rate):]
    assert estimated_freq(first, rate) == pytest.approx(f1, rel=0.03)
    assert estimated_freq(second, rate) == pytest.approx(f2, rel=0.03)
    assert f1 != f2
    assert rms(first) > 5000 and rms(second) > 5000
    assert len(samples) / rate == pytest.approx(d1 + d2 + 0.04, abs=0.01)


def test_sound_wav_roundtrip_and_resample(tmp_path):
    t = tone(500, 0.2, rate=16000)
    write_wav(tmp_path / "t.wav", t, 16000)
    back, rate = read_wav(tmp_path / "t.wav")
    assert rate == 16000 and list(back) == list(t)
    up = resample(back, 16000, SAMPLE_RATE)
    assert len(up) == int(len(back) * SAMPLE_RATE / 16000)
    assert estimated_freq(up, SAMPLE_RATE) == pytest.approx(500, rel=0.03)


# --------------------------------------------------------------------------- voice and cache


@needs_espeak
def test_sound_espeak_voice_is_real_audio(tmp_path):
    cache = SoundCache(tmp_path)
    path = cache.voice_path("Талон а сорок два, окно номер три.")
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
    samples, rate = read_wav(path)
    duration = len(samples) / rate
    assert 1.0 < duration < 8.0            # a short sentence, spoken
    assert rms(samples) > 500              # not silence
    assert max(abs(s) for s in samples) > 3000


@needs_espeak
def test_sound_announcement_is_chime_then_voice_repeated(tmp_path):
    cache = SoundCache(tmp_path)
    once = cache.announcement_path("А042", 3, AnnouncementSettings(repeat=1))
    twice = cache.announcement_path("А042", 3, AnnouncementSettings(repeat=2))
    chime_only = cache.announcement_path("А042", 3, AnnouncementSettings(voice_on=False))
    voice = len(read_wav(cache.voice_path("Талон а сорок два, окно номер три."))[0]) / SAMPLE_RATE
    d_once, d_twice, d_chime = wav_duration(once), wav_duration(twice), wav_duration(chime_only)
    assert d_chime < 1.2
    assert d_once == pytest.approx(d_chime + 0.6 + voice, abs=0.05)
    assert d_twice == pytest.approx(d_once + 0.6 + voice, abs=0.05)
    samples, rate = read_wav(once)
    assert rate == SAMPLE_RATE
    head = samples[: int(CHIME_TONES[0][1] * rate)]
    assert estimated_freq(head, rate) == pytest.approx(CHIME_TONES[0][0], rel=0.03)  # starts with the chime
    assert rms(samples[int((d_chime + 0.6) * rate):]) > 500                          # then speech


@needs_espeak
def test_sound_cache_hits_and_key_includes_voice_settings(tmp_path):
    cache = SoundCache(tmp_path)
    a = cache.announcement_path("Б007", 2)
    renders = cache.renders
    assert cache.announcement_path("Б007", 2) == a and cache.renders == renders   # cached
    slow = SoundCache(tmp_path, VoiceSettings(speed=110))
    b = slow.announcement_path("Б007", 2)
    assert b != a and slow.renders == 1
    assert wav_duration(b) > wav_duration(a)                                       # slower speech
    louder = cache.announcement_path("Б007", 2, AnnouncementSettings(volume=1.5))
    assert louder != a and rms(read_wav(louder)[0]) > rms(read_wav(a)[0])


def test_sound_without_voice_engine_falls_back_to_chime(tmp_path, monkeypatch):
    import hardware.sound as sound

    def broken(*a, **k):
        raise VoiceUnavailable("no engine")
    monkeypatch.setattr(sound, "render_voice", broken)
    path = SoundCache(tmp_path).announcement_path("А001", 1)
    assert wav_duration(path) < 1.2 and rms(read_wav(path)[0]) > 1000


def test_sound_rhvoice_missing_is_reported(tmp_path, monkeypatch):
    import hardware.sound as sound
    real_which = shutil.which
    monkeypatch.setattr(sound.shutil, "which", lambda n: None if n == "RHVoice-test" else real_which(n))
    with pytest.raises(VoiceUnavailable):
        sound.render_voice("тест", tmp_path / "x.wav", VoiceSettings(engine="rhvoice", voice="aleksandr"))
    assert VoiceSettings(engine="auto").resolved().engine == "espeak-ng"


# --------------------------------------------------------------------------- players


def test_sound_file_player_keeps_what_would_be_played(tmp_path):
    src = write_wav(tmp_path / "c.wav", chime())
    player = FilePlayer(tmp_path / "out")
    player.play(src)
    player.play(src)
    assert [p.name for p in player.played] == ["0001.wav", "0002.wav"]
    assert (tmp_path / "out" / "0002.wav").read_bytes() == src.read_bytes()
    assert len((tmp_path / "out" / "played.log").read_text().splitlines()) == 2


def test_sound_make_player(tmp_path, monkeypatch):
    assert isinstance(make_player("null"), NullPlayer)
    assert isinstance(make_player(f"file:{tmp_path}"), FilePlayer)
    monkeypatch.setattr("hardware.sound_players.shutil.which", lambda n: None)
    assert isinstance(make_player("auto"), NullPlayer)   # no aplay/paplay: silent, not a crash
    with pytest.raises(ValueError):
        make_player("speaker")


# --------------------------------------------------------------------------- the queue


class RecordingPlayer:
    """Logs start and end of every play; takes a little real time, like a speaker."""

    name = "recording"

    def __init__(self, seconds: float = 0.005):
        self.seconds = seconds
        self.log: list[tuple[str, float, float]] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def play(self, path):
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        start = time.monotonic()
        time.sleep(self.seconds)
        end = time.monotonic()
        with self._lock:
            self.active -= 1
            self.log.append((path.name, start, end))


class StubCache:
    """Renders a tiny file named after the call, so the order is visible in the player log."""

    def __init__(self, directory):
        self.directory = directory
        self.calls = []

    def announcement_path(self, ticket, window, settings):
        self.calls.append((ticket, window, settings))
        return write_wav(self.directory / f"{ticket}-{window}.wav", silence(0.01))


def test_sound_queue_plays_in_order_without_overlap(tmp_path):
    player = RecordingPlayer()
    with Announcer(StubCache(tmp_path), player) as announcer:
        for i in range(10):
            announcer.announce(f"А{i:03d}", i % 3 + 1)
        assert announcer.wait_idle(timeout=30)
    assert [name for name, _, _ in player.log] == [f"А{i:03d}-{i % 3 + 1}.wav" for i in range(10)]
    for (_, _, end), (_, next_start, _) in zip(player.log, player.log[1:]):
        assert end <= next_start
    assert player.max_active == 1


def test_sound_queue_never_drops_under_a_burst(tmp_path):
    player = RecordingPlayer(seconds=0)
    announcer = Announcer(StubCache(tmp_path), player).start()
    threads = [threading.Thread(target=lambda k=k: [announcer.announce(f"Б{k}{j:02d}", k) for j in range(50)])
               for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert announcer.wait_idle(timeout=60)
    announcer.stop()
    assert len(player.log) == 200 and player.max_active == 1
    assert sorted(n for n, _, _ in player.log) == sorted(f"Б{k}{j:02d}-{k}.wav" for k in range(4) for j in range(50))


def test_sound_queue_recall_re_announces_and_merging_is_opt_in(tmp_path):
    gate = threading.Event()

    class Blocking(RecordingPlayer):
        def play(self, path):
            gate.wait(10)
            super().play(path)

    for merge, expected in ((0.0, 4), (5.0, 3)):
        gate.clear()
        player = Blocking(seconds=0)
        announcer = Announcer(StubCache(tmp_path), player, merge_window_s=merge).start()
        announcer.announce("А001", 1)           # starts playing, blocked in the player
        time.sleep(0.05)
        announcer.announce("А002", 2)
        announcer.announce("А002", 2)           # a duplicate of a call still waiting
        announcer.announce("А002", 2, recall=True)  # a recall is never merged
        gate.set()
        assert announcer.wait_idle(timeout=30)
        announcer.stop()
        assert len(player.log) == expected


def test_sound_queue_survives_a_failing_player_and_settings_reach_the_renderer(tmp_path):
    class Flaky(RecordingPlayer):
        def play(self, path):
            if path.name.startswith("А001"):
                raise OSError("device busy")
            super().play(path)

    cache = StubCache(tmp_path)
    player = Flaky(seconds=0)
    with Announcer(cache, player, repeat=2, voice=False, volume=0.5) as announcer:
        announcer.announce("А001", 1)
        announcer.announce("А002", 1)
        announcer.configure(voice=True)
        announcer.announce("А003", 1)
        assert announcer.wait_idle(timeout=30)
    assert [n for n, _, _ in player.log] == ["А002-1.wav", "А003-1.wav"]
    assert announcer.errors == 1
    settings = [s for _, _, s in cache.calls]
    assert settings[0].repeat == 2 and settings[0].volume == 0.5 and not settings[0].voice_on
    assert settings[-1].voice_on


@needs_espeak
def test_sound_queue_end_to_end_file_player(tmp_path):
    player = FilePlayer(tmp_path / "played")
    with Announcer(SoundCache(tmp_path / "cache"), player) as announcer:
        announcer.announce("А042", 3)
        announcer.announce("А042", 3, recall=True)
        assert announcer.wait_idle(timeout=60)
    assert len(player.played) == 2
    for path in player.played:
        samples, rate = read_wav(path)
        assert len(samples) / rate > 2.0 and rms(samples) > 500


def test_sound_start_and_finish_hooks_come_from_the_player_when_it_can_tell(tmp_path):
    started, finished = [], []
    player = FilePlayer(tmp_path / "played")
    with Announcer(StubCache(tmp_path), player, on_start=lambda a: started.append((a.ticket, len(player.played))),
                   on_finish=lambda a: finished.append(a.ticket)) as announcer:
        announcer.announce("А001", 1)
        assert announcer.wait_idle(timeout=30)
    assert started == [("А001", 1)]           # reported by the player, once the file was "playing"
    assert finished == ["А001"] and announcer.played[0].started_at is not None
    # a player without the on_start parameter still gets the hooks (just before it plays)
    legacy, seen = RecordingPlayer(seconds=0), []
    with Announcer(StubCache(tmp_path), legacy, on_start=lambda a: seen.append(len(legacy.log)),
                   on_finish=lambda a: 1 / 0) as announcer:   # a failing hook costs nothing
        announcer.announce("А002", 2)
        announcer.announce("А003", 2)
        assert announcer.wait_idle(timeout=30)
    assert seen == [0, 1] and len(legacy.log) == 2 and announcer.errors == 0


def test_sound_prepare_renders_the_first_calls_in_the_background(tmp_path):
    from hardware.sound import SoundCache, first_tickets

    class PrerenderStub(StubCache):
        prerender = SoundCache.prerender

        def chime_path(self):
            return write_wav(self.directory / "chime.wav", silence(0.01))

    assert first_tickets(["А", "К"], [1, 2], first=3) == ["А001", "К001", "А002", "К002", "А003", "К003"]
    assert len(first_tickets(["А", "К", "Р"], list(range(1, 41)), first=10, limit=300)) == 6   # capped
    cache = PrerenderStub(tmp_path)
    announcer = Announcer(cache, RecordingPlayer(seconds=0))
    assert announcer.prepare(["А"], [1, 2], first=2) is True
    assert announcer.prerendered.wait(30)
    assert announcer.prepare(["А"], [1, 2], first=2) is False        # same request: nothing to do
    assert sorted((t, w) for t, w, _ in cache.calls) == [("А001", 1), ("А001", 2), ("А002", 1), ("А002", 2)]
    assert announcer.prerender_count == 4
    assert Announcer(None, RecordingPlayer()).prepare(["А"], [1]) is False
