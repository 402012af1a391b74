"""``talon demo``: the whole office on this machine (the README's first command)."""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from host.ports import free_port, port_is_free
from queue_core.norms import PROFILES


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--speed", type=float, default=60.0, help="office time runs this many times faster (default 60)")
    p.add_argument("--windows", type=int, default=4)
    p.add_argument("--profile", choices=sorted(PROFILES), default="mek")
    p.add_argument("--load", type=float, default=0.75,   # simulation.demo.LOAD
                   help="how busy the office is: the share of their open time the windows spend serving, over "
                        "the day (default 0.75: busy, mostly within the norms; the 10-11 peak runs above it)")
    p.add_argument("--hours", type=float, help="stop after this many office hours (default: the whole day)")
    p.add_argument("--days", type=int, default=1, help="office days to run, nights skipped (soak: --days 5)")
    p.add_argument("--headless", action="store_true", help="no Kivy board window even when a display is present")
    p.add_argument("--json", action="store_true", help="print the final report as one JSON object")
    p.add_argument("--data", type=Path, help="data directory (default: a fresh one under ./data/demo-*)")
    p.add_argument("--broker-kind", choices=["auto", "mosquitto", "amqtt"], default="auto")
    p.add_argument("--port", type=int, default=0, help="broker port (default: a free one)")
    p.add_argument("--web-port", type=int, default=8080)
    p.add_argument("--seed", type=int, default=1, help="the same seed gives the same day at any --speed")
    p.add_argument("--exit", action="store_true",
                   help="end when the simulated day ends (default: the dashboard stays up until Ctrl-C)")
    p.add_argument("--offices", type=int, default=0,
                   help="a network instead: N offices (light office simulators, each with its own mosquitto "
                        "bridged to head office) and their head office (broker, ingest, web on --web-port)")
    p.add_argument("--database", help="with --offices: head office's database URL (default: SQLite in the data dir)")


def _web_login(demo) -> tuple[str, str] | None:
    """An admin account for the web, made fresh for this demo: whoever runs the demo owns the
    office, so every page (settings too, which are the admin's) opens with it."""
    from server.users import add_user
    from storage.credentials import new_password
    password = new_password(12)
    with demo.runtime.db.sessions() as s, s.begin():
        add_user(s, "demo", password, "admin")
    return "demo", password


def _open_board(demo, data: Path) -> subprocess.Popen | None:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None
    env = {**os.environ, "TALON_DEVICE_PASSWORD": demo.passwords["board-1"]}
    return subprocess.Popen([sys.executable, "-m", "talon", "board", "--broker", demo.runtime.broker_url,
                             "--office", demo.config.office_id, "--device", "board-1"], env=env,
                            stdout=(data / "board.log").open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)   # Ctrl-C reaches the demo, which stops the board


def run(args: argparse.Namespace) -> int:
    import logging

    if args.offices:
        from simulation.hq_demo import run as run_network
        return run_network(args)
    from queue_core.config import office_from_profile
    from simulation.demo import Demo
    if not args.verbose:      # the live status line is the demo's voice; -v brings the logs back
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if not 1 <= args.speed <= 3600:
        raise SystemExit("--speed must be between 1 and 3600")
    if not 0.1 <= args.load <= 1.2:
        raise SystemExit("--load must be between 0.1 and 1.2")
    data = args.data or Path(tempfile.mkdtemp(prefix="demo-", dir=Path("data").resolve() if _mk("data") else None))
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data, 0o755)      # mosquitto runs as its own user and must reach its files
    config = office_from_profile(args.profile, windows=args.windows, office_id="demo",
                                 name="Демо-офис Talon")
    web_port = args.web_port if port_is_free(args.web_port) else free_port()
    demo = Demo(config, data, f"sqlite:///{data / 'talon.db'}", speed=args.speed, load=args.load, seed=args.seed,
                broker_kind=args.broker_kind, port=args.port or free_port(), web_port=web_port)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    demo.start()
    login = _web_login(demo)
    board = None if args.headless else _open_board(demo, data)
    out = sys.stderr if args.json else sys.stdout
    print(f"Talon demo: office «{config.name_ru}», {len(config.windows)} windows, profile {args.profile}, "
          f"load {args.load:g} (the windows serve {args.load:.0%} of their open time; more at the 10-11 peak), "
          f"office time x{args.speed:g}, seed {args.seed}", file=out)
    print(f"  broker     {demo.runtime.broker_url} ({type(demo.runtime.broker).__name__})", file=out)
    if demo.runtime.web is not None:
        who = f"  login {login[0]} / {login[1]}" if login else ""
        print(f"  dashboard  http://127.0.0.1:{web_port}/{who}", file=out)
    print(f"  data       {data}   (Ctrl-C stops and prints the day's report)", file=out, flush=True)
    if args.hours:
        demo.clock.halt_at(demo.clock.start + _hours(args.hours))
    rss = {"start": process_rss(demo)}
    interrupted = _run_days(demo, args, stop, out)
    rss["end"] = process_rss(demo)
    demo.stop_people()         # office time stops; the hub, the web and the broker stay
    report = demo.report()
    report["rss_mb"] = rss
    print(json.dumps(report, ensure_ascii=False) if args.json else _render(report), flush=True)
    if not (interrupted or args.exit):
        if demo.runtime.web is not None:
            print(f"\nOffice time has stopped; the dashboard stays up at http://127.0.0.1:{web_port}/ "
                  "— Ctrl-C ends the demo.", file=out, flush=True)
        stop.wait()
    if board is not None:      # a device goes before the broker: SIGTERM stops it quietly
        board.terminate()
        try:
            board.wait(20)
        except subprocess.TimeoutExpired:
            board.kill()
    demo.shutdown()
    return 0 if report["lost_commands"] == 0 and report["duplicate_numbers"] == 0 else 1


def _run_days(demo, args: argparse.Namespace, stop: threading.Event, out) -> bool:
    """Run the office days (or ``--hours``) with a live status line; True when Ctrl-C cut them short."""
    try:
        while not stop.wait(0.2):
            if out.isatty():
                print("\r  " + demo.status_line() + "   ", end="", file=out, flush=True)
            if demo.clock.halted:
                return False
            if demo.finished():
                if demo.day_index + 1 >= args.days:
                    return False
                demo.next_day()
        return True
    finally:
        if out.isatty():
            print(file=out)


def process_rss(demo) -> dict[str, float]:
    """Resident memory of this process (hub, web, simulated devices) and of the broker."""
    def rss(pid: int) -> float:
        try:
            line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
            return round(int(line.split()[1]) / 1024, 1)
        except (OSError, StopIteration):
            return 0.0
    out = {"demo_process": rss(os.getpid())}
    pid = getattr(demo.runtime.broker, "pid", None)
    if pid:
        out["mosquitto"] = rss(pid)
    return out


def _mk(path: str) -> bool:
    Path(path).mkdir(exist_ok=True)
    return True


def _hours(h: float):
    from datetime import timedelta
    return timedelta(hours=h)


def _render(r: dict) -> str:
    from simulation.report import render_text
    head = (f"\nThe day in the demo office (office time {r['office_time']}):\n"
            f"  tickets issued {r['tickets_issued']}, accounted for {r['tickets_accounted']}, "
            f"duplicate numbers {r['duplicate_numbers']}, lost commands {r['lost_commands']}, served {r['served']}\n")
    body = render_text({"profile": "", "policy": "", "load": "", "windows": "", "tickets": r["tickets_issued"],
                        "served": r["served"], "no_shows": r["refused"].get("no_show", 0),
                        "within_wait_norm_share": r["within_wait_norm_share"], "eta_mae_min": r["eta_mae_min"],
                        "topics": r["topics"]})
    return head + "\n".join(body.splitlines()[2:])

