"""``talon demo``: the same seed gives the same day at any speed; the dashboard outlives
the simulated day; Ctrl-C stops everything quietly."""
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta

from host.ports import free_port
from queue_core.config import office_from_profile
from simulation.demo import Demo

DAY = date(2026, 11, 23)     # a Monday


def one_hour(tmp_path, speed: float, seed: int = 5) -> dict:
    config = office_from_profile("mek", windows=4, office_id="demo", name="Демо-офис")
    data = tmp_path / f"x{speed:g}"
    data.mkdir()
    os.chmod(data, 0o755)    # mosquitto may run as its own user
    demo = Demo(config, data, f"sqlite:///{data / 'talon.db'}", speed=speed, seed=seed, port=free_port(),
                web_port=None, day=DAY)
    demo.clock.halt_at(demo.clock.start + timedelta(hours=1))
    demo.start()
    try:
        deadline = time.monotonic() + 120
        while not demo.clock.halted:
            assert time.monotonic() < deadline, "the demo hour did not end"
            time.sleep(0.05)
        demo.stop_people()
        return demo.report()
    finally:
        demo.shutdown()


def test_the_same_seed_gives_the_same_figures_at_two_speeds(tmp_path):
    fast, slow = one_hour(tmp_path, 3600), one_hour(tmp_path, 600)
    assert fast["tickets_issued"] > 10 and fast["lost_commands"] == 0
    assert fast == slow


def test_the_dashboard_stays_up_after_the_day_and_ctrl_c_stops_quietly(tmp_path):
    web = free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        # a session of its own, so the SIGINT below reaches the whole group as a terminal's Ctrl-C does
        proc = subprocess.Popen([sys.executable, "-m", "talon", "demo", "--headless", "--speed", "3600",
                                 "--hours", "0.5", "--web-port", str(web), "--data", str(tmp_path / "data")],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 90
        while "Ctrl-C ends the demo" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        time.sleep(2)
        assert proc.poll() is None, log.read_text()       # the day is over, the dashboard is not
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/auth/login", timeout=10) as r:
            assert r.status == 200
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(60) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log.read_text()
    assert "within the wait norm" in text and f"http://127.0.0.1:{web}/" in text
    assert "ERROR" not in text and "lost the broker connection" not in text and "Traceback" not in text, text


def test_the_office_clock_runs_actors_one_at_a_time_in_office_time_order():
    from datetime import datetime

    from simulation.sim_clock import SimClock
    start = datetime(2026, 11, 23, 9, 0)
    clock = SimClock(start, speed=3600 * 60)     # an office hour in a real second
    seen: list[tuple[str, int]] = []

    def visitor(name: str, minutes: list[int]) -> None:
        for m in minutes:
            clock.sleep_until(start + timedelta(minutes=m))
            seen.append((name, m))
            time.sleep(0.01)                      # a slow request: office time stands still meanwhile
            assert clock() == start + timedelta(minutes=m)
            clock.notify()

    def operator() -> None:
        while clock.wait_notice(start + timedelta(minutes=50)):
            seen.append(("operator", int((clock() - start).total_seconds() // 60)))
            if clock() >= start + timedelta(minutes=50):
                return

    with clock.holding():                         # as the demo starts a day: all actors, then time runs
        clock.spawn("operator", operator)
        clock.spawn("a", visitor, "a", [5, 10, 10])
        clock.spawn("b", visitor, "b", [1, 10, 30])
        clock.halt_at(start + timedelta(minutes=40))
    deadline = time.monotonic() + 10
    while not clock.halted:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert clock() == start + timedelta(minutes=40) and not clock.idle
    clock.stop()
    # at 10: b first (it asked at 1), then a (asked at 5); the operator b's notice woke; a's second 10
    assert seen == [("b", 1), ("operator", 1), ("a", 5), ("operator", 5), ("b", 10), ("a", 10), ("operator", 10),
                    ("a", 10), ("operator", 10), ("b", 30), ("operator", 30)]
