"""WebSocket framing for what the server sends (RFC 6455 §5.2), as plain functions.

A server's frames are not masked, and /ws/updates has compression off, so an event's
whole frame is the same bytes for every client: it is built once per event here and
written as is to every subscribed socket (see connection.py).
"""

from __future__ import annotations

import struct

FIN_TEXT = 0x81  # FIN bit set, opcode 1 (text)


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked text frame carrying `payload` (UTF-8)."""
    n = len(payload)
    if n < 126:
        header = bytes((FIN_TEXT, n))
    elif n < 1 << 16:
        header = struct.pack("!BBH", FIN_TEXT, 126, n)
    else:
        header = struct.pack("!BBQ", FIN_TEXT, 127, n)
    return header + payload


def text_frame_of(text: str) -> bytes:
    return text_frame(text.encode())
