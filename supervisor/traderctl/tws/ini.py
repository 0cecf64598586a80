"""IBC's ``config.ini``: rendered from ``config.ini.template`` (package data), written
atomically, 0600.

The template holds only keys IBC documents, with ``${Key}`` placeholders for
the values traderctl decides. IBC reads the file with
``java.util.Properties.load``, so values are escaped for that format
(backslashes, leading blanks, non-Latin-1 characters); a value with a line
break is refused rather than escaped, so nothing in a password can ever turn
into a second key.
"""

from __future__ import annotations

import os
import string
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

TEMPLATE_NAME = "config.ini.template"


class IniError(ValueError):
    """The template or a value cannot be rendered (the message never contains a value)."""


def default_template() -> str:
    """The template shipped in the package (``traderctl/tws/config.ini.template``)."""
    return str(resources.files(__package__) / TEMPLATE_NAME)


def escape_value(value: str) -> str:
    """Escape for ``java.util.Properties``: ``\\``, a leading blank, control and non-Latin-1."""
    out = []
    for i, ch in enumerate(value):
        if ch in "\r\n":
            raise IniError("line breaks are not allowed")
        if ch == "\\":
            out.append("\\\\")
        elif ch == " " and i == 0:
            out.append("\\ ")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\f":
            out.append("\\f")
        elif ord(ch) < 0x20 or ord(ch) > 0xFF:
            if ord(ch) > 0xFFFF:  # Properties' \\u escapes are UTF-16 units
                encoded = ch.encode("utf-16-be")
                out.extend(f"\\u{int.from_bytes(encoded[j:j + 2], 'big'):04x}" for j in (0, 2))
            else:
                out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def render(template_text: str, values: Mapping[str, str]) -> str:
    """Substitute every placeholder; a placeholder without a value is an error."""
    escaped = {}
    for key, value in values.items():
        try:
            escaped[key] = escape_value(str(value))
        except IniError as exc:
            raise IniError(f"IBC setting {key}: {exc}") from None
    try:
        return string.Template(template_text).substitute(escaped)
    except KeyError as exc:
        raise IniError(f"template placeholder {exc} has no value") from None
    except ValueError as exc:
        raise IniError(f"malformed template: {exc}") from None


def write_private(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically with mode 0600 (the directory made 0700).

    The temporary file is created 0600 in the same directory, fsynced and renamed
    over the target, so readers see the old or the new file, never a partial one,
    and the secret is never readable by others, not even for a moment.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config.ini.", dir=directory)  # mkstemp: 0600
    try:
        with os.fdopen(fd, "w", encoding="latin-1", errors="strict") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def render_file(template_path: str, values: Mapping[str, str], target: str) -> str:
    """Render the template into ``target`` (atomic, 0600); returns the target path."""
    try:
        template_text = Path(template_path).read_text(encoding="utf-8")
    except OSError as exc:
        raise IniError(f"cannot read IBC template {template_path}: {exc.strerror}") from None
    write_private(target, render(template_text, values))
    return target


def read_ini(path: str) -> dict[str, str]:
    """Keys and raw values of a rendered ini (for tests and diagnostics; escapes kept)."""
    values: dict[str, str] = {}
    for raw in Path(path).read_text(encoding="latin-1").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "!")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value
    return values
