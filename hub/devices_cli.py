"""``talon devices add|list|remove`` and ``talon operators add|list|remove``."""
from __future__ import annotations

import argparse
import getpass
import sys

from broker.roles import DEVICE_ROLES
from hub.cli import add_office_arguments, load_office


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_office_arguments(p)
    sub = p.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="provision a device; prints its password once")
    add.add_argument("device", help="device id, e.g. kiosk-1")
    add.add_argument("--role", required=True, choices=DEVICE_ROLES)
    add.add_argument("--window", type=int, help="the window a counter or rating panel serves")
    sub.add_parser("list", help="list provisioned devices")
    rm = sub.add_parser("remove", help="remove a device (its broker user stops working)")
    rm.add_argument("device")


def run(args: argparse.Namespace) -> int:
    from storage import directory
    from storage.engine import init_db, make_engine, make_sessionmaker

    config, _, url = load_office(args)
    engine = make_engine(url)
    init_db(engine)
    office = config.office_id
    with make_sessionmaker(engine)() as s, s.begin():
        if args.action == "add":
            try:
                password = directory.add_device(s, office, args.device, args.role, args.window)
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print(f"device {args.device} ({args.role}) added. Its password, shown only now:\n\n  {password}\n\n"
                  f"Put it in the device's TALON_DEVICE_PASSWORD. The running hub picks the device up by itself.")
        elif args.action == "list":
            for d in directory.list_devices(s, office):
                print(f"{d.device:<20} {d.role:<8} {'window ' + str(d.window) if d.window else ''}")
        else:
            if not directory.remove_device(s, office, args.device):
                print(f"error: no device {args.device!r}", file=sys.stderr)
                return 1
            print(f"device {args.device} removed")
    return 0


def add_operator_arguments(p: argparse.ArgumentParser) -> None:
    add_office_arguments(p)
    sub = p.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="add a counter operator (PIN asked, or read from stdin)")
    add.add_argument("code", help="operator code used to sign in at a counter, e.g. ivanova")
    add.add_argument("--name", required=True, help="full name shown to visitors («Вас обслуживает»)")
    add.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    sub.add_parser("list")
    rm = sub.add_parser("remove")
    rm.add_argument("code")


def run_operators(args: argparse.Namespace) -> int:
    from storage import directory
    from storage.engine import init_db, make_engine, make_sessionmaker

    config, _, url = load_office(args)
    engine = make_engine(url)
    init_db(engine)
    with make_sessionmaker(engine)() as s, s.begin():
        if args.action == "add":
            pin = sys.stdin.readline().strip() if args.pin_stdin else getpass.getpass("PIN (4-12 digits): ")
            try:
                directory.add_operator(s, config.office_id, args.code, args.name, pin)
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print(f"operator {args.code} added")
        elif args.action == "list":
            for o in directory.list_operators(s, config.office_id):
                print(f"{o.code:<20} {o.name}")
        elif not directory.remove_operator(s, config.office_id, args.code):
            print(f"error: no operator {args.code!r}", file=sys.stderr)
            return 1
    return 0
