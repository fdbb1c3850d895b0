"""WebSocket framing (RFC 6455 §5) for /ws/updates, as plain functions.

A server's frames are not masked, and /ws/updates has compression off, so an event's
whole frame is the same bytes for every client: it is built once per event and written
as is to every subscribed socket (see manager.flush). Client frames are parsed here;
the socket (socket.py) assembles them into messages.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
DATA_OPCODES = frozenset({OP_CONTINUATION, OP_TEXT, OP_BINARY})
CONTROL_OPCODES = frozenset({OP_CLOSE, OP_PING, OP_PONG})

CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_DATA = 1007  # text that is not UTF-8
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011  # used for a client that answers no ping

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


class FrameError(Exception):
    """The client broke the framing rules: close with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Frame:
    fin: bool
    opcode: int
    payload: bytes


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame: what a server sends."""
    n = len(payload)
    first = 0x80 | opcode
    if n < 126:
        header = bytes((first, n))
    elif n < 1 << 16:
        header = struct.pack("!BBH", first, 126, n)
    else:
        header = struct.pack("!BBQ", first, 127, n)
    return header + payload


def text_frame_of(text: str) -> bytes:
    return frame(OP_TEXT, text.encode())


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(OP_CLOSE, struct.pack("!H", code) + reason.encode()[:123])


def accept_key(client_key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1(client_key.encode() + _GUID).digest()).decode()


def valid_client_key(key: str | None) -> bool:
    try:
        return key is not None and len(base64.b64decode(key, validate=True)) == 16
    except ValueError:
        return False


def unmask(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    if n == 0:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def parse_client_frames(buffer: bytearray, max_payload: int) -> tuple[list[Frame], int]:
    """The whole frames at the start of `buffer`, and how many bytes they took.
    Raises FrameError for what a client may not send."""
    frames: list[Frame] = []
    pos, size = 0, len(buffer)
    while size - pos >= 2:
        first, second = buffer[pos], buffer[pos + 1]
        if first & 0x70:
            raise FrameError(CLOSE_PROTOCOL_ERROR, "reserved bits set without an extension")
        opcode = first & 0x0F
        if opcode not in DATA_OPCODES and opcode not in CONTROL_OPCODES:
            raise FrameError(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode}")
        if not second & 0x80:
            raise FrameError(CLOSE_PROTOCOL_ERROR, "client frames must be masked")
        n, head = second & 0x7F, 2
        if n == 126:
            if size - pos < 4:
                break
            n, head = struct.unpack_from("!H", buffer, pos + 2)[0], 4
        elif n == 127:
            if size - pos < 10:
                break
            n, head = struct.unpack_from("!Q", buffer, pos + 2)[0], 10
        fin = bool(first & 0x80)
        if opcode in CONTROL_OPCODES and (n > 125 or not fin):
            raise FrameError(CLOSE_PROTOCOL_ERROR, "control frames are short and not fragmented")
        if n > max_payload:
            raise FrameError(CLOSE_MESSAGE_TOO_BIG, f"frame over {max_payload} bytes")
        if size - pos < head + 4 + n:
            break
        start = pos + head + 4
        frames.append(Frame(fin, opcode, unmask(bytes(buffer[start:start + n]), bytes(buffer[start - 4:start]))))
        pos = start + n
    return frames, pos


def parse_close(payload: bytes) -> tuple[int, str]:
    """A close frame's code and reason; 1005 when it has none (RFC 6455 §7.1.5)."""
    if not payload:
        return 1005, ""
    if len(payload) == 1:
        raise FrameError(CLOSE_PROTOCOL_ERROR, "a close frame with one byte")
    code = struct.unpack("!H", payload[:2])[0]
    try:
        return code, payload[2:].decode()
    except UnicodeDecodeError:
        raise FrameError(CLOSE_INVALID_DATA, "close reason is not UTF-8") from None
