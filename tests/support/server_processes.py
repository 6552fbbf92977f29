"""Keep-alive connections to a ``serve --processes N`` server, and which process holds each.

The server's children share one listening socket and the kernel hands each new
connection to one of them; the process that accepted a connection is the one
holding the server end of it, which ``/proc`` tells: the socket's inode from
``/proc/net/tcp`` (matched on both ports), then the child with that inode among
its open descriptors. Nothing in the server says which process answered.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

_SERVER_CHILD = b"spawn_main"
"""In the command line of uvicorn's children (its resource tracker is a child too)."""


def server_children(parent: int) -> list[int]:
    """The pids of the server processes a ``serve --processes N`` parent runs now."""
    children: list[int] = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        try:
            listed = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        children.extend(int(pid) for pid in listed)
    found = []
    for pid in children:
        try:
            if _SERVER_CHILD in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except FileNotFoundError:  # ended meanwhile
            continue
    return sorted(found)


def _socket_inode(server_port: int, client_port: int) -> str:
    """The inode of the server end of the loopback connection between the two ports."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
            ):
                return fields[9]
    raise AssertionError(f"no server socket for client port {client_port}")


def socket_owner(server_port: int, client_port: int, pids: list[int]) -> int:
    """Which of ``pids`` holds the server end of the connection from ``client_port``."""
    wanted = f"socket:[{_socket_inode(server_port, client_port)}]"
    for pid in pids:
        folder = f"/proc/{pid}/fd"
        for descriptor in os.listdir(folder):
            try:
                if os.readlink(f"{folder}/{descriptor}") == wanted:
                    return pid
            except FileNotFoundError:  # closed meanwhile
                continue
    raise AssertionError(f"none of {pids} holds the connection from port {client_port}")


class KeptConnection:
    """One keep-alive HTTP/1.1 connection to the server, and the process that accepted it."""

    def __init__(self, port: int, parent: int, tls: ssl.SSLContext | None = None) -> None:
        self.port = port
        self.http = (
            http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            if tls is None
            else http.client.HTTPSConnection("127.0.0.1", port, timeout=120, context=tls)
        )
        # A first request: once answered, the connection has been accepted by a child.
        assert self.get_json("/health") == {"status": "ok"}
        sock = self.http.sock
        assert sock is not None
        self.pid = socket_owner(port, sock.getsockname()[1], server_children(parent))

    def request(self, method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Send on this connection (``url``: a path, or a full URL of this server)."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.http.request(method, target, body=body)
        response = self.http.getresponse()
        content = response.read()
        assert not response.will_close, "the server closed a keep-alive connection"
        return response.status, content

    def get_json(self, path: str, **params: str) -> Any:
        query = f"?{urlencode(params)}" if params else ""
        status, content = self.request("GET", path + query)
        body = json.loads(content)
        assert status == 200, body
        return body

    def close(self) -> None:
        self.http.close()


def wait_until_every_process_serves(
    port: int, parent: int, processes: int, timeout: float, tls: ssl.SSLContext | None = None
) -> list[int]:
    """Return the children's pids once there are ``processes`` of them and each has
    answered a connection (a child is listed as soon as it starts, before it serves)."""
    deadline = time.monotonic() + timeout
    answered: set[int] = set()
    while True:
        children = server_children(parent)
        if len(children) == processes:
            try:
                probe = KeptConnection(port, parent, tls)
            except ConnectionRefusedError:  # the socket listens once a child serves
                probe = None
            if probe is not None:
                answered.add(probe.pid)
                probe.close()
            if answered >= set(children):
                return children
        assert time.monotonic() < deadline, f"children {children}, answered {answered}"
        time.sleep(0.05)


def connections_on_every_process(
    port: int, parent: int, processes: int, most: int = 200, tls: ssl.SSLContext | None = None
) -> list[KeptConnection]:
    """One keep-alive connection held by each of the ``processes`` serving children.

    The kernel picks the process of each new connection, so connections are opened
    until every process holds one; the extra ones are closed at once (the server
    closes a connection idle for 5 s, so none is left waiting long)."""
    kept: dict[int, KeptConnection] = {}
    for _ in range(most):
        connection = KeptConnection(port, parent, tls)
        if connection.pid in kept:
            connection.close()
            continue
        kept[connection.pid] = connection
        if len(kept) == processes:
            return list(kept.values())
    raise AssertionError(f"{most} connections all went to {list(kept)}")


def get_on_new_connection(port: int, path: str, **params: str) -> tuple[int, bytes]:
    """A GET on a connection of its own, closed after the answer (whichever process
    the kernel hands it to answers)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path + (f"?{urlencode(params)}" if params else ""))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def poll_on_new_connections(port: int, job_id: str, timeout: float = 60.0) -> Any:
    """``/job/check`` on a new connection each time, until the job leaves ``working``."""
    deadline = time.monotonic() + timeout
    while True:
        status, content = get_on_new_connection(port, "/job/check", jobid=job_id)
        body = json.loads(content)
        assert status == 200, body
        if body["status"] != "working":
            return body
        assert time.monotonic() < deadline, f"job {job_id} still working after {timeout} s"
        time.sleep(0.05)
