"""The one console script, ``talon <command>``.

Each command lives in its own package as a module exposing
``add_arguments(parser)`` and ``run(args) -> int``; the module is imported only
when needed, so ``talon simulate`` never loads Kivy or Flask.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# command -> (module, one-line help). Modules must import heavy libraries lazily.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("simulation.demo_cli", "run a whole office on this machine (hub, web, simulated day)"),
    "simulate": ("simulation.cli", "simulate office days and report waits against the norms"),
    "bench": ("bench.cli", "run the benchmarks and print figures beside their goals"),
    "config": ("talon.config_cli", "check an office configuration file"),
    "report": ("talon.report_cli", "print a report (monthly, disclosure, csat, downtime) for scripts and cron"),
    "hub": ("talon.office", "run the hub: broker, dispatcher and web server"),
    "devices": ("hub.devices_cli", "provision device ids, roles and passwords"),
    "operators": ("hub.operators_cli", "manage counter operators and their PINs"),
    "kiosk": ("kiosk.cli", "run the ticket kiosk (Kivy)"),
    "counter": ("talon.counter", "run a counter terminal for one window (Kivy)"),
    "board": ("display_board.cli", "run the hall board or a per-window display (Kivy)"),
    "screens": ("talon.screens", "render every screen of every role (and the tickets) to PNG files"),
    "web": ("server.cli", "run the web server alone"),
    "users": ("server.users_cli", "manage web users and roles"),
    "setup": ("deploy.setup_cli", "set up this machine for a role (hub, kiosk, counter, board)"),
    "backup": ("deploy.backup_cli", "take a consistent backup of the hub's database"),
    "restore": ("deploy.restore_cli", "restore the hub's database from a backup"),
    "hq": ("talon.hq", "run head office (broker + ingest of every office's events) and manage its offices"),
}


def configure_logging(verbose: bool) -> None:
    """Configure logging once, here, before any library does it for us."""
    level = logging.DEBUG if verbose else getattr(logging, os.environ.get("TALON_LOG", "INFO").upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # python-escpos calls basicConfig() on import; ours already ran, so it is a no-op.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def build_parser(available: dict[str, object]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="talon", description="Talon electronic queue system")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in available.items():
        p = sub.add_parser(name, help=COMMANDS[name][1], description=COMMANDS[name][1])
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def _command_modules(wanted: str | None) -> dict[str, object]:
    """Import the command modules (just the one asked for, or all of them for ``--help``)."""
    names = [wanted] if wanted in COMMANDS else list(COMMANDS)
    return {name: importlib.import_module(COMMANDS[name][0]) for name in names}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    wanted = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(_command_modules(wanted))
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    configure_logging(args.verbose)
    return int(args._module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
