"""``talon users add NAME --role admin | list | remove NAME``: web users and roles.

There is no default user; the password is prompted twice, or read from standard
input with ``--password-stdin`` (for scripts: ``echo "$PW" | talon users add …``).
"""
from __future__ import annotations

import argparse
import getpass
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", help="database URL (default: TALON_DATABASE_URL or <data dir>/talon.db)")
    sub = p.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", choices=("operator", "head", "admin"), required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--office", help="head office: the one office this user sees (default: every office)")
    sub.add_parser("list", help="list users and their roles")
    rm = sub.add_parser("remove", help="remove a user")
    rm.add_argument("name")


def _password(args) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Пароль / Password: ")
    if first != getpass.getpass("Ещё раз / Again: "):
        print("Пароли не совпадают / passwords do not match")
        return None
    return first


def run(args: argparse.Namespace) -> int:
    from server.users import UserError, add_user, list_users, remove_user
    from storage.engine import default_url, init_db, make_engine, make_sessionmaker

    engine = make_engine(args.database or default_url())
    try:
        init_db(engine)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as session:
            if args.users_command == "list":
                for u in list_users(session):
                    print(f"{u.username}\t{u.role}\t{'active' if u.active else 'disabled'}\t"
                          f"{u.created_at:%Y-%m-%d}" + (f"\toffice {u.office}" if u.office else ""))
                return 0
            if args.users_command == "remove":
                if not remove_user(session, args.name):
                    print(f"no user {args.name!r}")
                    return 1
                print(f"removed {args.name}")
                return 0
            password = _password(args)
            if password is None:
                return 1
            try:
                add_user(session, args.name, password, args.role, office=args.office)
            except UserError as exc:
                print(f"cannot add user: {exc}")
                return 1
            print(f"added {args.name} ({args.role}" + (f", office {args.office})" if args.office else ")"))
            return 0
    finally:
        engine.dispose()
