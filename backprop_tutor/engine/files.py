"""The project's one way to read a file it is handed (network, template, roster, set.json,
answer file, gradebook): at most `limit` bytes, and only a regular file.

Why: a student's answer file that is /dev/zero never ends, a FIFO blocks the reader forever, and
a 2 GB file named s07.yaml fills memory before any parser sees it. So the file is opened
without blocking (a FIFO opens at once), checked to be a regular file, and read up to the
limit plus one byte: a file larger than the limit is refused before it is parsed, whatever
its stat size claimed. Callers turn ReadProblem into their own one-line error (docs/formats.md,
"Limits").
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO


class ReadProblem(Exception):
    """Why a file could not be read, as one line without the file's name (the caller adds it)."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} kB"


def read_bytes(path: str | Path, limit: int, what: str = "a file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes; ReadProblem otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ReadProblem("no such file") from None
    except IsADirectoryError:
        raise ReadProblem(f"is a directory, not {what}") from None
    except OSError as e:
        raise ReadProblem(f"cannot read ({e.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _kind(mode)
            raise ReadProblem(f"is {kind}, not {what}" if kind.startswith("a ") else f"{kind}, so not {what}")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as e:
        raise ReadProblem(f"cannot read ({e.strerror})") from None
    finally:
        os.close(fd)
    if total > limit:
        raise ReadProblem(f"larger than {_size(limit)}, the limit for {what}")
    return b"".join(chunks)


def read_stream(stream: BinaryIO, limit: int, what: str = "a file") -> bytes:
    """All of a stream (standard input) of at most `limit` bytes; ReadProblem past that."""
    try:
        data = stream.read(limit + 1)
    except OSError as e:
        raise ReadProblem(f"cannot read ({e.strerror})") from None
    if len(data) > limit:
        raise ReadProblem(f"larger than {_size(limit)}, the limit for {what}")
    return data


def read_text(path: str | Path, limit: int, what: str = "a file", encoding: str = "utf-8") -> str:
    """The text of a regular UTF-8 file of at most `limit` bytes; ReadProblem otherwise
    (`encoding="utf-8-sig"` drops the byte-order mark Excel writes)."""
    try:
        return read_bytes(path, limit, what).decode(encoding)
    except UnicodeDecodeError:
        raise ReadProblem(f"not UTF-8 text, so not {what}") from None
