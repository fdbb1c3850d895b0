"""The /ws/updates socket: RFC 6455 framing rules as plain functions, then the same
rules against a real gateway with a bare client that can break them."""

from __future__ import annotations

import json
import os
import socket
import struct

import pytest

from backend.ws import frames
from backend.ws.frames import FrameError, parse_client_frames
from tests.rawws import RawWebSocket


def client_frame(opcode: int, payload: bytes, fin: bool = True, mask: bytes = b"\x01\x02\x03\x04") -> bytes:
    n = len(payload)
    length = bytes([0x80 | n]) if n < 126 else (bytes([0x80 | 126]) + struct.pack("!H", n) if n < 65536
                                                 else bytes([0x80 | 127]) + struct.pack("!Q", n))
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([(0x80 if fin else 0) | opcode]) + length + mask + masked


# -- the rules, without sockets -------------------------------------------------------------

def test_accept_key_is_the_rfc_example():
    assert frames.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3


@pytest.mark.parametrize("size, header_bytes", [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)])
def test_server_frames_use_the_shortest_length(size, header_bytes):
    built = frames.frame(frames.OP_TEXT, b"x" * size)
    assert built[0] == 0x81 and len(built) == size + header_bytes
    assert built[1] & 0x80 == 0  # a server's frames are not masked


@pytest.mark.parametrize("size", [5, 300, 70_000])
def test_client_frames_are_unmasked_whole_and_partial(size):
    payload = os.urandom(size)
    data = bytearray(client_frame(frames.OP_BINARY, payload) + client_frame(frames.OP_TEXT, b"hi"))
    parsed, used = parse_client_frames(data, 1 << 20)
    assert [(f.opcode, f.payload) for f in parsed] == [(frames.OP_BINARY, payload), (frames.OP_TEXT, b"hi")]
    assert used == len(data)
    cut = bytearray(data[:-3])  # the second frame is not all there yet
    parsed, used = parse_client_frames(cut, 1 << 20)
    assert len(parsed) == 1 and used == len(client_frame(frames.OP_BINARY, payload))


@pytest.mark.parametrize("data, code", [
    (bytes([0x81, 0x02]) + b"hi", 1002),  # not masked
    (bytes([0xC1]) + client_frame(1, b"x")[1:], 1002),  # RSV1 without an extension
    (client_frame(0x3, b"x"), 1002),  # reserved opcode
    (client_frame(frames.OP_PING, b"x" * 126), 1002),  # control frame too long
    (client_frame(frames.OP_PING, b"x", fin=False), 1002),  # fragmented control frame
    (client_frame(frames.OP_TEXT, b"x" * 200), 1009),  # over the limit
])
def test_frames_a_client_may_not_send(data, code):
    with pytest.raises(FrameError) as error:
        parse_client_frames(bytearray(data), 100)
    assert error.value.code == code


def test_close_payloads():
    assert frames.parse_close(b"") == (1005, "")
    assert frames.parse_close(struct.pack("!H", 1000) + b"bye") == (1000, "bye")
    with pytest.raises(FrameError):
        frames.parse_close(b"\x03")
    with pytest.raises(FrameError):
        frames.parse_close(struct.pack("!H", 1000) + b"\xff")


# -- against a real gateway -----------------------------------------------------------------

def next_json(ws: RawWebSocket) -> dict:
    while True:
        opcode, payload = ws.read_frame()
        if opcode == frames.OP_TEXT:
            message = json.loads(payload)
            if message["event"] != "heartbeat":
                return message


def test_fragmented_message_is_assembled(gateway):
    ws = RawWebSocket("127.0.0.1", gateway.port)
    ws.sock.settimeout(5)
    assert next_json(ws)["event"] == "connected"
    text = json.dumps({"event": "subscribe", "data": {"events": ["signals:detected"]}}).encode()
    ws.send_frame(0x01, text[:10])  # text, not final
    ws.send_frame(0x89, b"in between")  # a ping may come between fragments
    ws.send_frame(0x80, text[10:])  # continuation, final
    assert ws.read_frame() == (frames.OP_PONG, b"in between")
    assert next_json(ws)["event"] == "subscribed"
    ws.close()


@pytest.mark.parametrize("first_byte, payload, masked, code", [
    (0x81, b"\xff\xfe", True, 1007),  # text that is not UTF-8
    (0x81, b"{}", False, 1002),  # unmasked
    (0x80, b"{}", True, 1002),  # continuation of nothing
])
def test_broken_frames_close_the_connection_with_their_code(gateway, first_byte, payload, masked, code):
    ws = RawWebSocket("127.0.0.1", gateway.port)
    ws.sock.settimeout(5)
    assert next_json(ws)["event"] == "connected"
    ws.send_frame(first_byte, payload, masked=masked)
    assert ws.read_until_close(5) == code
    ws.close()


def test_client_close_is_echoed(gateway):
    ws = RawWebSocket("127.0.0.1", gateway.port)
    ws.sock.settimeout(5)
    assert next_json(ws)["event"] == "connected"
    ws.send_frame(0x88, struct.pack("!H", 1000) + b"done")
    assert ws.read_until_close(5) == 1000
    assert ws.sock.recv(1) == b""  # and the server ends the TCP connection
    ws.close()


@pytest.mark.parametrize("headers, status", [
    ("Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 8\r\n", b"426"),
    ("Sec-WebSocket-Version: 13\r\n", b"400"),
    ("Sec-WebSocket-Key: not-base64-16\r\nSec-WebSocket-Version: 13\r\n", b"400"),
])
def test_bad_handshakes_get_an_http_error(gateway, headers, status):
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    sock.sendall(("GET /ws/updates HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  + headers.format(key=key) + "\r\n").encode())
    answer = sock.recv(4096)
    assert answer.split(b" ")[1] == status, answer
    sock.close()
