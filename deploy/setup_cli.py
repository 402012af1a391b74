"""``talon setup ROLE``: provision this machine (or ``--root DIR``) for a Talon role.

Prints the plan with ``--dry-run``; otherwise applies every step that is not done yet,
so running it twice changes nothing the second time ("nothing to do").
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

ROLE_NAMES = ("hub", "kiosk", "counter", "board")


def default_source() -> Path | None:
    """This checkout, when talon runs from one (it has a setup.cfg beside the packages)."""
    top = Path(__file__).resolve().parent.parent
    return top if (top / "setup.cfg").is_file() else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("role", choices=ROLE_NAMES, help="what this machine is")
    parser.add_argument("--office", default=os.environ.get("TALON_OFFICE"),
                        help="office id (env TALON_OFFICE)")
    parser.add_argument("--device", default=os.environ.get("TALON_DEVICE"),
                        help="this device's id as given to `talon devices add` (default: the hostname)")
    parser.add_argument("--broker", default=os.environ.get("TALON_BROKER"),
                        help="MQTT broker URL (default: mqtt://127.0.0.1:1883 on the hub, "
                             "mqtt://talon-hub.local:1883 elsewhere)")
    parser.add_argument("--password", default=None,
                        help="device password from `talon devices add` (env TALON_DEVICE_PASSWORD; "
                             "kept from the existing env file when omitted)")
    parser.add_argument("--window", type=int, action="append", default=[], metavar="N",
                        help="window number (counter: required; board: a per-window display); repeatable")
    parser.add_argument("--source", type=Path, default=None,
                        help="what to pip install: a checkout directory or a wheel (default: this checkout)")
    parser.add_argument("--optional", action="store_true",
                        help="also install the role's optional packages (kiosk: cups-client)")
    parser.add_argument("--pip-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for pip install, e.g. --pip-arg=--index-url=http://mirror/simple")
    parser.add_argument("--python", default=None,
                        help="interpreter that creates the venv (default: python3 in --root, else this one)")
    parser.add_argument("--root", type=Path, default=Path("/"),
                        help="apply inside another root directory (apt/useradd run via chroot)")
    parser.add_argument("--skip-system", action="store_true",
                        help="skip apt and user/group steps (tests, or a machine set up by hand)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument("--now", action="store_true",
                        help="also (re)start the role's units when systemd is running")
    hq = parser.add_argument_group("head office (hub only; docs/deploy.md, \"Linking an office to head office\")")
    hq.add_argument("--hq", metavar="URL", default=None,
                    help="link this office to head office's broker, mqtts://hq.example:8883 (a re-run "
                         "without it keeps the existing link; `--hq off` removes it)")
    hq.add_argument("--hq-user", default=None, help="the office's user at head office (default: --office)")
    hq.add_argument("--hq-password", default=None,
                    help="its password (env TALON_HQ_PASSWORD; kept from the existing hq.password when omitted)")
    hq.add_argument("--hq-cafile", default=None,
                    help="CA certificate of head office's broker (default: the system's CAs)")


def _existing_password(root: Path, role: str) -> str | None:
    """The password already in /etc/talon/<role>.env, so a re-run need not repeat it."""
    from host import paths

    env_file = root / str(paths.CONFIG_DIR).lstrip("/") / f"{role}.env"
    try:
        lines = env_file.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip() == "TALON_DEVICE_PASSWORD":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            return value
    return None


def _existing_hq_password(root: Path) -> str | None:
    """The password already in the data directory's hq.password, so a re-run need not repeat it."""
    from deploy.setup_plan import HQ_PASSWORD

    try:
        return (root / HQ_PASSWORD.lstrip("/")).read_text(encoding="utf-8").strip() or None
    except (FileNotFoundError, PermissionError):
        return None


def _existing_hq(root: Path) -> dict[str, str]:
    """The link a previous ``--hq`` wrote (url, user, cafile), so a re-run keeps it."""
    import tomllib

    from deploy.setup_plan import HQ_CONFIG

    try:
        section = tomllib.loads((root / HQ_CONFIG.lstrip("/")).read_text(encoding="utf-8")).get("hq", {})
    except (FileNotFoundError, PermissionError, tomllib.TOMLDecodeError):
        return {}
    return {k: v for k, v in section.items() if isinstance(v, str)}


def _hq_options(args: argparse.Namespace) -> dict:
    """``--hq…`` as SetupOptions fields: given, kept from the previous run, or ``off``."""
    if args.role != "hub" and args.hq is None:
        return {}
    before = _existing_hq(args.root) if args.hq is None else {}
    url = args.hq or before.get("url")
    if not url or url == "off":
        return {}
    password = args.hq_password or os.environ.get("TALON_HQ_PASSWORD") or _existing_hq_password(args.root)
    return {"hq": url, "hq_user": args.hq_user or before.get("user"), "hq_password": password,
            "hq_cafile": args.hq_cafile or before.get("cafile")}


def _live_systemd(root: Path) -> bool:
    return root.resolve() == Path("/") and Path("/run/systemd/system").is_dir()


def run(args: argparse.Namespace) -> int:
    from deploy.setup_plan import SetupError, SetupOptions, apply, build_plan, render
    from deploy.steps import Context, EnableUnit, StepError

    source = args.source or default_source()
    if source is None:
        print("talon setup: give --source (a Talon checkout or wheel)", file=sys.stderr)
        return 2
    password = args.password or os.environ.get("TALON_DEVICE_PASSWORD") or _existing_password(args.root, args.role)
    opts = SetupOptions(
        role=args.role,
        office=args.office or "",
        device=args.device or socket.gethostname().split(".")[0],
        source=source.resolve() if not args.dry_run else source,
        broker=args.broker,
        password=password,
        windows=tuple(args.window),
        optional=args.optional,
        pip_args=tuple(args.pip_arg),
        **_hq_options(args),
    )
    try:
        plan = build_plan(opts)
    except SetupError as exc:
        print(f"talon setup: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        sys.stdout.write(render(plan, args.root))
        print("(dry run: nothing was changed)")
        return 0
    if os.geteuid() != 0:
        print("talon setup: run as root (sudo talon setup ...)", file=sys.stderr)
        return 2
    ctx = Context(root=args.root, skip_system=args.skip_system, python=args.python)
    rc = apply(plan, ctx, sys.stdout)
    if rc == 0 and _live_systemd(args.root):
        try:
            ctx.run(["systemctl", "daemon-reload"])
            if args.now:
                units = [s.name for s in plan.steps if isinstance(s, EnableUnit)]
                ctx.run(["systemctl", "restart", *units])
                print("started: " + " ".join(units))
        except StepError as exc:
            print(f"talon setup: {exc}", file=sys.stderr)
            return 1
    return rc
