"""Run an ASGI app with uvicorn in a background thread on a free loopback port.

Test suites need a real server (real sockets, real HTTP parsing) that starts in a fraction of a
second and stops cleanly, inside the test process so fixtures can reach its state directly.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from ..httpserver import HttpProtocol

_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 10.0


class BackgroundServer:
    """uvicorn serving ``app`` on ``127.0.0.1``; the port is chosen by the OS unless given.

    ``start_timeout`` / ``stop_timeout``: seconds :meth:`start` waits for the server to
    accept connections and :meth:`stop` waits for its thread to end.
    """

    def __init__(
        self,
        app: Any,
        *,
        port: int = 0,
        start_timeout: float = _START_TIMEOUT,
        stop_timeout: float = _STOP_TIMEOUT,
    ) -> None:
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="auto",
            http=HttpProtocol,
            # Intercepted clients announce the scheme they asked for (https://api.pdf.co)
            # so result URLs point there; only loopback is trusted to say so.
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"pdfbinder-server-{self.port}",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start serving and return once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the pdfbinder test server failed to start (see log above)")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the pdfbinder test server did not start in {self._start_timeout}s"
                )
            time.sleep(0.01)

    def stop(self) -> None:
        """Ask the server to finish and wait for its thread."""
        self._server.should_exit = True
        self._thread.join(self._stop_timeout)
        self._socket.close()
