"""``talon hq``: head office — its broker and ingest (``hq/``) and, beside them, its web
(``server``, ``HQ_MODE``). The composition root: ``hq`` and ``server`` meet only here."""
from __future__ import annotations

import argparse

from hq.cli import add_arguments

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    from hq import cli

    def start_web(runtime):
        from server.serve import start_hq_web

        web = start_hq_web(runtime.s.database_url, args.web_host, args.web_port, runtime.s.data_dir)
        print(f"head office's web at http://{args.web_host}:{args.web_port}/ "
              "(its users: talon users --database URL add NAME --role head)", flush=True)
        return web

    return cli.run(args, start_web=start_web)
