"""The web dashboard inside another process (the hub, the demo): a threaded werkzeug
server bound to the hub's database, its clock and its settings hook."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from werkzeug.serving import make_server

log = logging.getLogger(__name__)


class WebServer:
    def __init__(self, server, thread: threading.Thread):
        self._server, self._thread = server, thread
        self.port = server.server_port

    def shutdown(self) -> None:
        self._server.shutdown()
        self._thread.join(5)


def start_web_server(db, host: str, port: int, hub=None, data_dir: Path | None = None) -> WebServer:
    """Serve the dashboard for ``db`` (a ``QueueDatabase``); settings saved on the web
    reach the running hub, which republishes ``state/config`` to every device, and so do a
    visitor's «Я ухожу» (``VISITOR_LEAVE``) and the staff's announcement (``ANNOUNCE``).
    With a hub, the phone pages' change feed also looks as soon as the hub commits."""
    from server import create_app
    from server.cli import purge, secret_key

    mapping = {"DATABASE_URL": db.url, "OFFICE_CONFIG": db.config}
    if data_dir is not None:
        mapping["SECRET_KEY"] = secret_key(data_dir)
    if hub is not None:
        mapping["CLOCK"] = hub.dispatcher.clock
        mapping["ON_SETTINGS_SAVED"] = hub.apply_config
        # the visitor's phone and the staff's announcement change queue state: the hub's single
        # writer applies them (``Hub.visitor_leave(token) -> Ticket payload``, ``Hub.announce(text)``;
        # both raise ``QueueError`` for a refusal); the current announcement is read from the
        # database (``storage.ticket_links.notice``)
        mapping["VISITOR_LEAVE"] = hub.visitor_leave
        mapping["ANNOUNCE"] = hub.announce
    app = create_app(mapping)
    purge(app)
    if hub is not None:
        _feed_follows(app, hub)
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="web", daemon=True)
    thread.start()
    return WebServer(server, thread)


def _feed_follows(app, hub) -> None:
    """The phone pages' one change feed (``server.live_feed``) looks right after each of the
    hub's commits instead of at its next poll: the hub's listener runs on its writer under
    its lock, so it only pokes the feed (sets a flag); the feed's own thread does the reading."""
    from server.phone import feed

    with app.app_context():
        live = feed()
    hub.add_listener(lambda items: live.poke())


def start_office_web(runtime) -> WebServer:
    """The dashboard beside a running hub: ``OfficeRuntime(..., start_web=start_office_web)``."""
    s = runtime.s
    return start_web_server(runtime.db, s.web_host, s.web_port, hub=runtime.hub, data_dir=s.data_dir)


def start_hq_web(database_url: str, host: str, port: int, data_dir: Path | None = None,
                 clock=None) -> WebServer:
    """Head office's web (``HQ_MODE``) over the database ``talon hq`` fills: every office
    live, their ranking, the network's reports and each office's own pages. ``clock``: the
    time the pages take as now (``talon demo --offices`` runs office time faster)."""
    from server import create_app
    from server.cli import secret_key

    mapping = {"DATABASE_URL": database_url, "HQ_MODE": True, "CLOCK": clock}
    if data_dir is not None:
        mapping["SECRET_KEY"] = secret_key(data_dir)
    server = make_server(host, port, create_app(mapping), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="hq-web", daemon=True)
    thread.start()
    return WebServer(server, thread)
