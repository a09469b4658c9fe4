"""A learner's history as a file, to move it between machines: the progress export
(docs/formats.md, "Progress export"), written from a store's `history()` and read back, every
field checked, into what a store can `merge`.

A file is checked whole before any of it reaches a store, so a bad file changes nothing. It is
read through engine/files.py (a regular file, at most LIMIT bytes) and written whole to a
temporary file that is then moved into place, so an export cut short leaves no half file under
the name asked for.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from backprop_tutor.engine.files import ReadProblem, read_bytes, read_stream
from backprop_tutor.errors import TutorError
from backprop_tutor.grading.result import Status
from backprop_tutor.learner.store import RECORDS, PartOutcome, utc

FORMAT = "backprop-tutor-progress"
VERSION = 1
LIMIT = 256_000_000  # far past a lifetime of practice (an attempt is about 250 bytes)
WHAT = "a progress export"
FIX = "give a file written by `tutor progress export`"


class TransferError(TutorError):
    """A progress export cannot be read, or written."""


# --- writing ---------------------------------------------------------------------------------------

def export_text(history: dict[str, list[dict]], exported: datetime) -> str:
    """The file: a JSON object with one record per line, so that it stays readable and a
    difference between two exports is a difference of lines; each record's fields in the order
    of SCHEMA (uid first)."""
    lines = ["{", f'  "format": "{FORMAT}",', f'  "version": {VERSION},',
             f'  "exported": "{exported.isoformat(timespec="seconds")}",']
    for n, table in enumerate(RECORDS):
        records = [f"    {json.dumps({k: record[k] for k in SCHEMA[table]}, ensure_ascii=False)}"
                   for record in history[table]]
        body = "[\n" + ",\n".join(records) + "\n  ]" if records else "[]"
        lines.append(f'  "{table}": {body}' + ("," if n < len(RECORDS) - 1 else ""))
    return "\n".join([*lines, "}"]) + "\n"


def write_export(path: Path, text: str, force: bool) -> None:
    """`text` written to `path`, which must not exist unless `force`."""
    if path.is_dir():
        raise TransferError("is a folder", source=str(path), fix="give the name of the file to write")
    if path.exists() and not force:
        raise TransferError("exists already", source=str(path), fix="choose another name, or add --force to replace it")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as e:
        raise TransferError(f"cannot write there ({e.strerror})", source=str(path)) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)  # a link at `path` is replaced, never written through
    except BaseException as e:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise TransferError(f"cannot write there ({e.strerror})", source=str(path)) from None
        raise


# --- reading ---------------------------------------------------------------------------------------

def read_export(path: Path, stdin: BinaryIO | None = None) -> dict[str, list[dict]]:
    """The history in the file at `path` (`-`: read from `stdin`), every field checked;
    TransferError, naming the record and the field, when anything is wrong."""
    source = "standard input" if str(path) == "-" else str(path)
    try:
        raw = read_stream(stdin, LIMIT, WHAT) if str(path) == "-" and stdin is not None else read_bytes(path, LIMIT, WHAT)
    except ReadProblem as e:
        raise TransferError(str(e), source=source) from None
    return parse_export(raw, source)


def parse_export(raw: bytes, source: str) -> dict[str, list[dict]]:
    def error(problem: str, key: str | None = None, fix: str | None = None) -> TransferError:
        return TransferError(problem, source=source, key=key, fix=fix)

    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except UnicodeDecodeError:
        raise error(f"not UTF-8 text, so not {WHAT}", fix=FIX) from None
    except json.JSONDecodeError as e:
        raise error(f"not JSON (line {e.lineno}, column {e.colno}: {e.msg})", fix=FIX) from None
    except ValueError as e:  # NaN, or an integer of thousands of digits
        raise error(f"not JSON as tutor writes it ({e})", fix=FIX) from None
    except RecursionError:
        raise error("not JSON as tutor writes it (nested too deep)", fix=FIX) from None
    except _DuplicateKey as e:  # json keeps the last silently: a list of attempts could vanish
        raise error(f"not JSON as tutor writes it ({_shown(e.key)} appears twice in one object)", fix=FIX) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        shown = _shown(data.get("format")) if isinstance(data, dict) and "format" in data else "missing"
        raise error(f"not {WHAT} (format: {shown}, not \"{FORMAT}\")", fix=FIX)
    version = data.get("version")
    if type(version) is not int or version < 1:
        raise error(f"{_shown(version) if 'version' in data else 'missing'}: expected a version number from 1",
                    key="version", fix=FIX)
    if version > VERSION:
        raise error(f"{version} is newer than this backprop-tutor reads ({VERSION})", key="version",
                    fix="upgrade backprop-tutor on this machine")
    expected = ("format", "version", "exported", *RECORDS)
    for key in expected:
        if key not in data:
            raise error("missing", key=key, fix=FIX)
    for key in data:
        if key not in expected:  # shown, not used as the key: it may hold an escape code
            raise error(f"{_shown(key)} is not a field of {WHAT} of version {VERSION}")
    if (problem := _time(data["exported"])) is not None:
        raise error(f"{_shown(data['exported'])}: {problem}", key="exported")
    history = {table: _records(data[table], table, error) for table in RECORDS}
    for table, records in history.items():
        for record in records:
            for field in TIMES[table]:
                record[field] = _as_stored(record[field])
    sessions = {s["uid"] for s in history["sessions"]}
    for table in ("attempts", "outcomes"):
        for index, record in enumerate(history[table]):
            if record["session"] is not None and record["session"] not in sessions:
                raise error(f"{_shown(record['session'])} is not the uid of a session in this file",
                            key=f"{table}[{index}].session")
    return history


def _records(records: Any, table: str, error: Callable[..., TransferError]) -> list[dict]:
    if not isinstance(records, list):
        raise error("expected a list of records", key=table)
    schema = SCHEMA[table]
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        where = f"{table}[{index}]"
        if not isinstance(record, dict):
            raise error("expected a record, {\"uid\": …, …}", key=where)
        for field, check in schema.items():
            if field not in record:
                raise error("missing", key=f"{where}.{field}")
            if (problem := check(record[field])) is not None:
                raise error(f"{_shown(record[field])}: {problem}", key=f"{where}.{field}")
        for field in record:
            if field not in schema:
                raise error(f"{_shown(field)} is not a field of {table} in version {VERSION}", key=where)
        uid = record["uid"]
        if uid in seen:
            raise error(f"{_shown(uid)} is also {table}[{seen[uid]}]'s; every record has its own uid",
                        key=f"{where}.uid")
        seen[uid] = index
    return records


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return out


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number")


def _shown(value: Any) -> str:
    """A value in a message: as JSON, escaped to ASCII (an escape code in a file is printed, not
    obeyed), and cut short."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:39] + "…"


# --- the fields ------------------------------------------------------------------------------------
# Each check takes a field's value and says what is wrong with it, or None.

Check = Callable[[Any], "str | None"]
INT64 = 2**63  # SQLite's integers
UID = re.compile(r"[A-Za-z0-9_-]{1,64}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _uid(value: Any) -> str | None:
    if not isinstance(value, str) or not UID.fullmatch(value):
        return "expected a uid: 1 to 64 letters, digits, - and _"
    return None


# The years a saved time may have: the models add review intervals to them and order them, and a
# time near the calendar's ends (0001-01-01T00:00+01:00 is year 0 in UTC) would break both.
YEARS = (1970, 2999)


def _time(value: Any) -> str | None:
    try:
        if not isinstance(value, str) or len(value) > 64:
            raise ValueError
        datetime.fromisoformat(value)
    except ValueError:
        return "expected a time, e.g. 2025-03-01T09:30:00+00:00"
    try:
        year = utc_time(value).year
    except OverflowError:  # past the calendar's end once moved to UTC
        year = None
    if year is None or not YEARS[0] <= year <= YEARS[1]:
        return f"expected a time from {YEARS[0]} to {YEARS[1]}"
    return None


def utc_time(value: str) -> datetime:
    """An ISO 8601 time as an aware UTC datetime (store.utc)."""
    return utc(datetime.fromisoformat(value))


def _as_stored(value: str) -> str:
    """A checked time as the store writes its own: UTC, to the second unless it has a fraction.
    The store orders records by this text, so every time in it must be in the same zone."""
    when = utc_time(value)
    return when.isoformat(timespec="seconds" if not when.microsecond else "microseconds")


def _integer(value: Any) -> str | None:
    if type(value) is not int or not -INT64 <= value < INT64:
        return "expected a whole number (of at most 19 digits)"
    return None


def _count(value: Any) -> str | None:
    return _integer(value) or ("expected a count, 0 or more" if value < 0 else None)


def _number(value: Any) -> str | None:
    if type(value) not in (int, float) or (type(value) is int and _integer(value)) or not math.isfinite(value):
        return "expected a number"
    return None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return "expected text"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, "\ud800": no UTF-8 text holds it
        return "expected text (this has a lone surrogate)"
    return None


def _name(value: Any) -> str | None:
    """An id: a template, a part, a skill or a slip."""
    if (problem := _text(value)) is not None:
        return problem
    if not 1 <= len(value) <= 200 or CONTROL.search(value):
        return "expected a name: 1 to 200 characters, no control characters"
    return None


def _one_of(values: tuple[str, ...]) -> Check:
    def check(value: Any) -> str | None:
        return None if isinstance(value, str) and value in values else f"expected one of {', '.join(values)}"

    return check


def _optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


_GRADED = (Status.CORRECT.value, Status.INCORRECT.value)  # an invalid answer is never an attempt
SCHEMA: dict[str, dict[str, Check]] = {
    "sessions": {"uid": _uid, "started": _time, "seed": _optional(_integer)},
    "attempts": {"uid": _uid, "session": _optional(_uid), "at": _time, "template": _name, "seed": _integer,
                 "part": _name, "skill": _name, "answer": _text, "status": _one_of(_GRADED), "score": _number,
                 "points": _number, "diagnosis": _optional(_name)},
    "outcomes": {"uid": _uid, "session": _optional(_uid), "at": _time, "template": _name, "seed": _integer,
                 "part": _name, "skill": _name, "outcome": _one_of(tuple(o.value for o in PartOutcome)),
                 "attempts": _count, "hints": _count, "score": _number, "points": _number},
}
TIMES = {table: tuple(field for field, check in fields.items() if check is _time) for table, fields in SCHEMA.items()}
