"""TWS API wire format: handshake, length-prefixed framing, field encoding.

Every message after the handshake is a 4-byte big-endian length followed by
NUL-terminated text fields. Values are encoded the way TWS does it: booleans
as ``1``/``0``, ``None`` as an empty field, floats without a trailing ``.0``
noise where TWS would not send one.
"""

from __future__ import annotations

import builtins
import struct
from collections.abc import Iterable
from typing import Any

API_SIGNATURE = b"API\0"
MIN_CLIENT_VERSION = 157
MIN_SERVED_VERSION = 176  # every layout the simulator writes exists from 176 on
MAX_SERVER_VERSION = 178
UNSET_INTEGER = 2**31 - 1
UNSET_DOUBLE = 1.7976931348623157e308
_LEN = struct.Struct(">I")


class ProtocolError(Exception):
    """The peer sent something that is not the TWS API protocol."""


def encode_field(value: Any) -> str:
    """Encode one value the way TWS puts it on the wire."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value == UNSET_DOUBLE:
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int) and value == UNSET_INTEGER:
        return ""
    return str(value)


def encode_message(fields: Iterable[Any]) -> bytes:
    """Frame a list of values as one length-prefixed message.

    The hot path of every reply: strings (most openOrder fields are the
    client's own wire strings) and plain ints skip :func:`encode_field`'s
    checks; ``type() is`` keeps bools (an int subclass) on the slow path.
    """
    parts: list[str] = []
    append = parts.append
    for f in fields:
        kind = type(f)
        if kind is str:
            append(f)
        elif kind is int and f != UNSET_INTEGER:
            append(str(f))
        else:
            append(encode_field(f))
    append("")
    payload = "\0".join(parts).encode()
    return _LEN.pack(len(payload)) + payload


def frame_text(text: str) -> bytes:
    """Length-prefix a raw string (used for the client's version handshake)."""
    data = text.encode()
    return _LEN.pack(len(data)) + data


def split_fields(payload: bytes) -> list[str]:
    """Split a message payload into its fields (trailing terminator dropped)."""
    fields = payload.decode(errors="backslashreplace").split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


def parse_length(header: bytes) -> int:
    """Decode the 4-byte length prefix."""
    return _LEN.unpack(header)[0]


def parse_client_versions(text: str) -> tuple[int, int, str]:
    """Parse ``v157..178 [+options]`` into (min, max, options)."""
    head, _, options = text.partition(" ")
    if not head.startswith("v"):
        raise ProtocolError(f"bad version string {text!r}")
    low, sep, high = head[1:].partition("..")
    try:
        lo = int(low)
        hi = int(high) if sep else lo
    except ValueError as exc:
        raise ProtocolError(f"bad version string {text!r}") from exc
    return lo, hi, options.strip()


class VersionMismatch(ProtocolError):
    """The client and the simulator share no API version the simulator can encode."""


def negotiate_version(configured: int, client_min: int, client_max: int) -> int:
    """Highest version both sides speak, never above 178 (ib_async's ceiling).

    The simulator's message layouts are those of versions 176..178, so a client
    that cannot speak at least 176 is refused rather than sent layouts it
    would misread (ibapi 9.81 offers v100..151).
    """
    version = min(configured, client_max, MAX_SERVER_VERSION)
    if version < client_min or version < MIN_SERVED_VERSION:
        raise VersionMismatch(
            f"The simulated TWS serves API versions {MIN_SERVED_VERSION}..{configured}; "
            f"this client offers v{client_min}..{client_max}. Upgrade the API client."
        )
    return version


class Cursor:
    """Sequential reader over decoded fields; used for variable layouts."""

    def __init__(self, fields: list[str], start: int = 0) -> None:
        self.fields = fields
        self.pos = start

    def next(self) -> str:
        """Return the next field ('' past the end, like a lenient TWS)."""
        value = self.fields[self.pos] if self.pos < len(self.fields) else ""
        self.pos += 1
        return value

    def take(self, count: int) -> list[str]:
        return [self.next() for _ in range(count)]

    def int(self, default: int = 0) -> int:
        raw = self.next()
        try:
            return int(float(raw)) if raw else default
        except ValueError:
            return default

    def float(self, default: float = 0.0) -> float:
        raw = self.next()
        try:
            return float(raw) if raw else default
        except ValueError:
            return default

    def bool(self) -> bool:
        raw = self.next()
        return raw not in ("", "0", "false", "False")

    @property
    def remaining(self) -> builtins.int:
        return max(0, len(self.fields) - self.pos)
