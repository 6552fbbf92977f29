"""An answer's head and body leave in one write; nothing held is lost or reordered."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pdfbinder.compat.httpserver import HeadWithBody
from tests.support.compat import ServeProcess

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class RecordingTransport(asyncio.Transport):
    """The socket's side of a connection: what was written, in which calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes]] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.calls.append(("write", bytes(data)))

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.calls.append(("writelines", b"".join(list_of_data)))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000)}.get(name, default)


async def _one_turn() -> None:
    await asyncio.sleep(0)


def test_a_head_and_its_body_go_out_in_one_call() -> None:
    async def scenario() -> list[tuple[str, bytes]]:
        socket_side = RecordingTransport()
        transport = HeadWithBody(socket_side, asyncio.get_running_loop())
        transport.write(HEAD)
        transport.write(b"{}")
        await _one_turn()  # the flush scheduled for the head finds nothing left
        return socket_side.calls

    assert asyncio.run(scenario()) == [("writelines", HEAD + b"{}")]


def test_a_head_without_a_body_behind_it_goes_out_when_the_loop_turns() -> None:
    async def scenario() -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
        socket_side = RecordingTransport()
        transport = HeadWithBody(socket_side, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        held = list(socket_side.calls)
        await _one_turn()
        return held, socket_side.calls

    held, sent = asyncio.run(scenario())
    assert held == []
    assert sent == [("write", b"HTTP/1.1 100 Continue\r\n\r\n")]


def test_other_writes_pass_straight_through_in_order() -> None:
    async def scenario() -> list[tuple[str, bytes]]:
        socket_side = RecordingTransport()
        transport = HeadWithBody(socket_side, asyncio.get_running_loop())
        transport.write(b"a streamed piece")
        transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}")  # head+body
        transport.write(HEAD)
        transport.writelines([b"x", b"y"])  # the held head first
        return socket_side.calls

    assert asyncio.run(scenario()) == [
        ("write", b"a streamed piece"),
        ("write", b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}"),
        ("write", HEAD),
        ("writelines", b"xy"),
    ]


def test_closing_sends_a_held_head_first_and_a_closed_socket_gets_nothing() -> None:
    async def scenario() -> tuple[RecordingTransport, RecordingTransport]:
        loop = asyncio.get_running_loop()
        closing = RecordingTransport()
        transport = HeadWithBody(closing, loop)
        transport.write(HEAD)
        transport.close()
        lost = RecordingTransport()
        HeadWithBody(lost, loop).write(HEAD)
        lost.closed = True  # the peer went away before the loop turned
        await _one_turn()
        return closing, lost

    closing, lost = asyncio.run(scenario())
    assert closing.calls == [("write", HEAD)] and closing.closed
    assert lost.calls == []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with ServeProcess(tmp_path_factory.mktemp("writes") / "data") as process:
        yield process


def _read_answer(connection: socket.socket) -> tuple[bytes, bytes]:
    """One whole answer (head, body by its Content-Length) from a keep-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head, body


def test_a_keep_alive_connection_gets_every_answer_whole_and_in_order(
    server: ServeProcess, tmp_path: Path
) -> None:
    """HEAD, a download, an error and a 100-continue upload, one after the other on one
    connection: each head is followed by exactly its own body."""
    document = bytes(range(256)) * 1000  # 256 kB: streamed, not read whole
    uploaded = httpx.post(
        server.url + "/file/upload", files={"file": ("data.bin", document)}, timeout=30
    ).json()
    path = uploaded["url"].split(str(server.port), 1)[1].encode()
    host = f"Host: 127.0.0.1:{server.port}\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(b"HEAD " + path + b" HTTP/1.1\r\n" + host + b"\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += connection.recv(65536)
        assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n")
        assert f"content-length: {len(document)}".encode() in head.lower()

        connection.sendall(b"GET " + path + b" HTTP/1.1\r\n" + host + b"\r\n")
        head, body = _read_answer(connection)
        assert head.startswith(b"HTTP/1.1 200") and body == document

        connection.sendall(b"GET /job/check HTTP/1.1\r\n" + host + b"\r\n")
        head, body = _read_answer(connection)
        assert head.startswith(b"HTTP/1.1 400") and json.loads(body)["error"] is True

        payload = b"name=hello.txt&file=aGVsbG8="
        connection.sendall(
            b"POST /file/upload/base64 HTTP/1.1\r\n"
            + host
            + b"Expect: 100-continue\r\nContent-Length: "
            + str(len(payload)).encode()
            + b"\r\n\r\n"
        )
        interim = b""
        while b"\r\n\r\n" not in interim:  # sent when the loop turns, not held for a body
            interim += connection.recv(65536)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        connection.sendall(payload)
        head, body = _read_answer(connection)
        assert head.startswith(b"HTTP/1.1 200")
        stored = json.loads(body)
        assert stored["name"] == "hello.txt"
    assert httpx.get(stored["url"], timeout=30).content == b"hello"
