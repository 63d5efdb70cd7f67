"""Length-prefixed JSON frames (PROTOCOL.md §1).

A frame is a 4-byte big-endian payload length followed by that many bytes of UTF-8 JSON holding
one object. This module knows nothing about sockets, so it can be tested byte for byte.
"""
from __future__ import annotations

import json
import struct
from typing import Any, Dict, List

_HEADER = struct.Struct(">I")
HEADER_SIZE = _HEADER.size


class FrameError(Exception):
    """The peer sent bytes that are not a valid frame."""


def encode(frame: Dict[str, Any]) -> bytes:
    """Encodes one frame. Raises ``TypeError``/``ValueError`` if the frame is not strict JSON."""
    # allow_nan=False: NaN/Infinity are not JSON and the server would reject the frame.
    payload = json.dumps(frame, separators=(",", ":"), ensure_ascii=False,
                         allow_nan=False).encode("utf-8")
    return _HEADER.pack(len(payload)) + payload


def decode_payload(payload: bytes) -> Dict[str, Any]:
    """Parses one payload; it must be a JSON object."""
    try:
        value = json.loads(payload)
    except ValueError as e:
        raise FrameError(f"frame is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise FrameError("frame is not a JSON object")
    return value


class FrameDecoder:
    """Incremental decoder: feed it bytes as they arrive, take complete frames out."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> List[Dict[str, Any]]:
        """Adds ``data`` and returns every frame now complete, in order."""
        buf = self._buf
        buf += data
        frames = []
        pos = 0
        n = len(buf)
        while n - pos >= HEADER_SIZE:
            (length,) = _HEADER.unpack_from(buf, pos)
            if length == 0:
                raise FrameError("zero-length frame")
            end = pos + HEADER_SIZE + length
            if end > n:
                break
            frames.append(decode_payload(bytes(buf[pos + HEADER_SIZE:end])))
            pos = end
        if pos:
            del buf[:pos]
        return frames

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buf)
