"""HTTP mode: the world served on 127.0.0.1, so unmodified boto3 code reaches it through AWS_ENDPOINT_URL."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Iterable
from typing import IO, Any

from werkzeug.serving import BaseWSGIServer, make_server

from harness.world.core import World
from harness.world.errors import ConnectionFault
from harness.world.local import local_aws
from harness.world.scenario import Scenario
from harness.world.wire import WireError, read_request

LOOPBACK = "127.0.0.1"
logger = logging.getLogger(__name__)


def make_app(world: World) -> Any:
    """A WSGI application answering AWS requests from `world`."""

    def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Read the request, let the world answer, write the response (or drop the connection)."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            request = read_request(
                environ["REQUEST_METHOD"],
                environ.get("PATH_INFO") or "/",
                environ.get("QUERY_STRING", ""),
                _headers(environ),
                body,
            )
        except WireError as error:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [str(error).encode()]
        try:
            status, headers, payload = world.handle(request)
        except ConnectionFault as fault:
            connection = environ.get("werkzeug.socket")
            if connection is not None:
                connection.shutdown(socket.SHUT_RDWR)
            # A ConnectionError is how werkzeug learns the connection is gone: it then writes nothing and logs
            # nothing (returning without start_response would log a traceback and try to send a 500).
            raise ConnectionAbortedError(str(fault)) from None
        reason = "OK" if status < 400 else "Error"
        start_response(f"{status} {reason}", [(key, value) for key, value in headers.items() if value != ""])
        return [payload]

    return application


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """Request headers from a WSGI environ, lower-cased."""
    headers = {
        key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    return headers


def start_server(world: World, port: int = 0) -> BaseWSGIServer:
    """A threaded HTTP server for `world` bound to loopback only (port 0 picks a free one); not yet serving."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return make_server(LOOPBACK, port, make_app(world), threaded=True)


def serve(scenario: Scenario, port: int, out: IO[str]) -> None:
    """Serve `scenario` until SIGINT or SIGTERM; the first line on `out` is `endpoint=http://127.0.0.1:PORT`."""
    with local_aws(scenario) as world:
        server = start_server(world, port)

        def stop(_signum: int, _frame: Any) -> None:
            """Shut the server down from another thread (shutdown waits for serve_forever to return)."""
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        out.write(f"endpoint=http://{LOOPBACK}:{server.server_port}\n")
        out.flush()
        server.serve_forever()
        server.server_close()
