"""``talon config check FILE``: validate an office configuration and summarise it."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="config_command", required=True)
    check = sub.add_parser("check", help="validate an office TOML file")
    check.add_argument("file", type=Path)


def run(args: argparse.Namespace) -> int:
    from queue_core.config import parse_office_toml
    from queue_core.errors import ConfigError

    try:
        config = parse_office_toml(args.file.read_text(encoding="utf-8"))
    except OSError as exc:
        print(f"{args.file}: cannot read: {exc.strerror}")
        return 1
    except ConfigError as exc:
        print(f"{args.file}: {exc.key}: {exc.problem}")
        return 1
    print(f"{args.file}: OK — office {config.office_id!r} ({config.name_ru}), profile {config.profile.code}, "
          f"policy {config.policy}")
    for t in config.topics:
        norms = f"wait {t.wait_norm_min or '—'} / service {t.service_norm_min or '—'} min ({t.aggregation})"
        print(f"  topic {t.code} [{t.prefix}] {t.name_ru}: {norms}")
    for w in config.windows:
        print(f"  window {w.number}: {', '.join(w.topics)}")
    return 0
