"""``talon demo --offices N``: a network of N offices and its head office, on this machine.

Head office runs as in production (``hq.runtime.HqRuntime``: its mosquitto with a user and an
ACL per office, the ingest into its database) with its web (``server.serve.start_hq_web``);
the offices are light offices (``simulation.light_office``): each its own real mosquitto with
the real bridge to head office, publishing a simulated day's events at office speed ×``speed``
from two worker processes. Head office's pages take the offices' time as now, so the live
waits read as in a real day.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from host.ports import free_port, port_is_free

REGIONS = [("Урал", "Екатеринбург"), ("Урал", "Челябинск"), ("Центр", "Москва"), ("Центр", "Тула"),
           ("Сибирь", "Новосибирск"), ("Сибирь", "Томск")]
log = logging.getLogger(__name__)
OPEN_AT = (8, 55)
MAX_OFFICES = 200


def network_configs(n: int, profile: str, windows: int):
    """``n`` offices of the profile, spread over the regions and branches."""
    from queue_core.config import office_from_profile

    out = []
    for i in range(1, n + 1):
        region, branch = REGIONS[(i - 1) % len(REGIONS)]
        config = office_from_profile(profile, windows=windows, office_id=f"office-{i:03d}",
                                     name=f"{branch}, офис {i}")
        out.append((config, region, branch))
    return out


class NetworkDemo:
    def __init__(self, n: int, folder: Path, database_url: str, *, profile: str = "mek", windows: int = 4,
                 speed: float = 60.0, load: float = 0.75, seed: int = 1, web_port: int = 8090,
                 day: date | None = None):
        from hq.offices import Registry

        self.folder, self.database_url, self.speed, self.web_port = folder, database_url, speed, web_port
        self.configs = network_configs(n, profile, windows)
        tz = ZoneInfo(self.configs[0][0].timezone)
        day = day or datetime.now(tz).date()
        self.office0 = datetime(day.year, day.month, day.day, *OPEN_AT, tzinfo=tz)
        self.wall0: float | None = None
        registry = Registry(folder / "hq")
        self.offices = []
        from queue_core.config_toml import config_to_toml
        for i, (config, region, branch) in enumerate(self.configs, 1):
            password = registry.add(config.office_id, config.name_ru, region, branch)
            self.offices.append({"toml": config_to_toml(config), "password": password, "port": free_port(),
                                 "seed": seed * 1000 + i})
        self.load = load
        self.runtime = None
        self.workers = None

    def clock(self) -> datetime:
        """Office time: stands at the opening until the offices start, then runs ×speed."""
        if self.wall0 is None:
            return self.office0
        return self.office0 + timedelta(seconds=max(0.0, time.time() - self.wall0) * self.speed)

    def start(self) -> None:
        from hq.runtime import HqRuntime, HqSettings
        from server.serve import start_hq_web
        from simulation.light_office import Workers

        def web(runtime):
            return start_hq_web(runtime.s.database_url, "127.0.0.1", self.web_port, runtime.s.data_dir, self.clock)

        self.runtime = HqRuntime(HqSettings(self.folder / "hq", self.database_url, port=free_port()), start_web=web)
        self.runtime.start()
        self.workers = Workers(self.offices, self.runtime.broker.url, self.folder / "offices", self.office0,
                               self.speed, self.load)
        self.wall0 = time.time() + 1.0
        self.workers.go(self.wall0)

    def add_users(self) -> dict[str, str]:
        """An analyst who sees every office and the head of the first office, fresh passwords."""
        from server.users import add_user
        from storage.engine import make_sessionmaker

        logins = {"analyst": secrets.token_urlsafe(9), "head-001": secrets.token_urlsafe(9)}
        with make_sessionmaker(self.runtime.engine).begin() as s:
            add_user(s, "analyst", logins["analyst"], "head")
            add_user(s, "head-001", logins["head-001"], "head", office=self.configs[0][0].office_id)
        return logins

    def status(self) -> dict:
        from storage import hq
        with self.runtime.sessions() as s:
            offices = hq.offices(s)
        counts = self.runtime.ingest.counts
        return {"office_time": self.clock().isoformat(timespec="minutes"), "offices_reporting": len(
            [o for o in offices if o.last_seq]), "events_applied": counts.applied, "duplicates_skipped":
            counts.duplicates, "replays_requested": counts.replays_requested}

    def day_over(self) -> bool:
        return self.clock() >= self.office0.replace(hour=20, minute=30)

    def stop(self) -> dict:
        published = {}
        if self.workers is not None:
            try:
                published, _late = self.workers.halt()
            except RuntimeError:
                log.warning("a light-office worker had already ended")
            self.workers.close()
        if self.runtime is not None:
            self.runtime.stop()
        return published


def run(args) -> int:
    """``talon demo --offices N`` (the arguments of ``simulation.demo_cli``)."""
    import signal
    import tempfile

    if not 1 <= args.offices <= MAX_OFFICES:
        raise SystemExit(f"--offices must be between 1 and {MAX_OFFICES}")
    if not 1 <= args.speed <= 600:
        raise SystemExit("--speed must be between 1 and 600 with --offices")
    if not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    Path("data").mkdir(exist_ok=True)
    folder = args.data or Path(tempfile.mkdtemp(prefix="demo-hq-", dir=Path("data").resolve()))
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)         # mosquitto runs as its own user and must reach its files
    url = args.database or f"sqlite:///{(folder / 'talon-hq.db').resolve()}"
    web_port = args.web_port if args.web_port and port_is_free(args.web_port) else free_port()
    demo = NetworkDemo(args.offices, folder, url, profile=args.profile, windows=args.windows, speed=args.speed,
                       load=args.load, seed=args.seed, web_port=web_port)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    out = sys.stderr if args.json else sys.stdout
    print(f"Talon network demo: {args.offices} offices ({args.windows} windows each, profile {args.profile}) and "
          f"their head office, office time x{args.speed:g}; starting the offices' brokers…", file=out, flush=True)
    demo.start()
    logins = demo.add_users()
    print(f"  head office broker  {demo.runtime.broker.url} (one user and ACL per office)", file=out)
    print(f"  head office web     http://127.0.0.1:{web_port}/   login analyst / {logins['analyst']} "
          f"(every office), head-001 / {logins['head-001']} (office-001 only)", file=out)
    print(f"  database            {url.split('@')[-1]}", file=out)
    print(f"  data                {folder}   (Ctrl-C stops)", file=out, flush=True)
    try:
        while not stop.wait(1.0):
            if out.isatty():
                s = demo.status()
                print(f"\r  {s['office_time'][11:16]} office time | offices reporting {s['offices_reporting']} | "
                      f"events at head office {s['events_applied']}   ", end="", file=out, flush=True)
            if demo.day_over():
                if args.exit:
                    break
                print("\nThe offices' day is over; head office's web stays up — Ctrl-C ends the demo.",
                      file=out, flush=True)
                stop.wait()
                break
    finally:
        status = demo.status()
        published = demo.stop()
    status["events_published"] = sum(published.values())
    print(("\n" if out.isatty() else "") + json.dumps(status, ensure_ascii=False), flush=True)
    return 0
