"""An HTTP server on a loopback port, serving from a daemon thread: the sample site's and the test peers' one way to run.

``http.server`` from the standard library: the sample site ships with the
package and must not need more; the test servers (tests/servers/) build on
the same class so that starting, stopping and URLs work one way everywhere.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class LoopbackServer:
    """Binds at construction (port 0: a free one), serves after :meth:`start`, or inside a ``with`` block."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0, *,
                 poll_interval: float = 0.1, name: str = "loopback") -> None:
        server_cls = ThreadingHTTPServer
        if ":" in host:  # an IPv6 literal such as ::1
            server_cls = type("ThreadingHTTPServerV6", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
        self.httpd = server_cls((host, port), handler)
        self.httpd.daemon_threads = True
        bound_host, self.port = self.httpd.server_address[:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        self.base_url = f"http://{shown}:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": poll_interval},
                                        name=f"{name}:{self.port}", daemon=True)

    def start(self) -> str:
        if not self._thread.is_alive():
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()

    def __enter__(self) -> LoopbackServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
