"""A loopback HTTP origin whose answers wait until the test opens its gate.

A job whose sources are URLs of a :class:`GatedOrigin` stays ``working`` — its
worker is fetching — until :meth:`GatedOrigin.release`, however fast or loaded the
machine is. Tests that need a job in flight (admission limits, the synchronous
time limit, a result URL before the result, a worker killed mid-job) use it instead
of a job slow enough to outlast their checks. The server under test fetches from
it for real: it must allow remote sources and ``127.0.0.1`` (``allow_remote`` and
``allow_hosts``, or ``--allow-remote --allow-host 127.0.0.1``).
"""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

_LONGEST_HOLD = 120.0
"""A request still held this long is answered anyway, so a failed test cannot hang."""


class GatedOrigin:
    """Serves ``files`` (name → bytes) at ``/<name>``; every answer waits for the gate."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self._gate = threading.Event()
        self._arrived = threading.Condition()
        self.requests = 0
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with origin._arrived:
                    origin.requests += 1
                    origin._arrived.notify_all()
                origin._gate.wait(_LONGEST_HOLD)
                body = origin.files.get(self.path.lstrip("/"))
                # The fetching side may be gone by now (a worker killed mid-job).
                with contextlib.suppress(ConnectionError):
                    if body is None:
                        self.send_error(404)
                        return
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the test output to the test's own lines

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def url_of(self, name: str) -> str:
        return f"{self.url}/{name}"

    def wait_for_requests(self, count: int, timeout: float = 60.0) -> None:
        """Block until ``count`` requests have arrived (are held): their jobs are running."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: self.requests >= count, timeout)
        assert arrived, f"{self.requests} of {count} expected requests reached the origin"

    def release(self) -> None:
        """Open the gate: held and later requests are answered at once."""
        self._gate.set()

    def __enter__(self) -> GatedOrigin:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()
