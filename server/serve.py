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
    reach the running hub, which republishes ``state/config`` to every device."""
    from server import create_app
    from server.cli import purge, secret_key

    mapping = {"DATABASE_URL": db.url, "OFFICE_CONFIG": db.config}
    if data_dir is not None:
        mapping["SECRET_KEY"] = secret_key(data_dir)
    if hub is not None:
        mapping["CLOCK"] = hub.dispatcher.clock
        mapping["ON_SETTINGS_SAVED"] = hub.apply_config
    app = create_app(mapping)
    purge(app)
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="web", daemon=True)
    thread.start()
    return WebServer(server, thread)


def start_office_web(runtime) -> WebServer:
    """The dashboard beside a running hub: ``OfficeRuntime(..., start_web=start_office_web)``."""
    s = runtime.s
    return start_web_server(runtime.db, s.web_host, s.web_port, hub=runtime.hub, data_dir=s.data_dir)
