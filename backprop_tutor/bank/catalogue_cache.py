"""The catalogue remembered between runs: each template's Entry, kept beside the file's size and
modification time in one small JSON file in the user cache folder (or the folder TUTOR_CACHE
names; TUTOR_CACHE= empty turns it off). When no template changed, `tutor bank list`, `tutor
stats` and practice's choice of problem read this file instead of importing PyYAML and parsing
every template, which is most of what is left of their start-up time.

A template whose size or time changed is read and checked again; so is every template after an
upgrade or an edit of bank/catalogue.py (the checks may have changed). A cache that cannot be
read or written is not used: never an error, never a stale entry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from backprop_tutor import __version__
from backprop_tutor.bank import catalogue
from backprop_tutor.bank.catalogue import Entry
from backprop_tutor.errors import TemplateError

ENV = "TUTOR_CACHE"
FILE_NAME = "catalogue.json"


def cache_file() -> Path | None:
    """The cache's path: in TUTOR_CACHE, else the user cache folder; None when TUTOR_CACHE is empty."""
    folder = os.environ.get(ENV)
    if folder is None:
        from platformdirs import user_cache_dir

        folder = user_cache_dir("backprop-tutor")
    return Path(folder) / FILE_NAME if folder else None


def cached_entries(paths: Sequence[Path], on_broken: Callable[[TemplateError], None] | None = None) -> list[Entry]:
    """The Entry of each path, read from its YAML only when the cache has none for this version
    of the file. The cache then holds exactly these paths, less the broken ones. A broken
    template raises its TemplateError, or with `on_broken` is passed to it and left out."""
    file = cache_file()
    remembered = _read(file) if file else {}
    entries, kept = [], {}
    for path in paths:
        try:
            key, stamp = str(path), _stamp(path)
            entry = _entry(remembered.get(key), stamp) or catalogue.read_entry(path)
        except OSError as e:  # removed or unreadable since the folder was listed
            error = TemplateError(f"cannot read ({e.strerror})", source=str(path))
            if on_broken is None:
                raise error from None
            on_broken(error)
            continue
        except TemplateError as e:
            if on_broken is None:
                raise
            on_broken(e)
            continue
        kept[key] = {"stamp": stamp, "entry": {**asdict(entry), "skills": list(entry.skills)}}  # as JSON reads it
        entries.append(entry)
    if file and kept != remembered:
        _write(file, kept)
    return entries


def _stamp(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_mtime_ns, status.st_size]


def _rules() -> str:
    """What the remembered entries were checked by: this version, and this catalogue.py."""
    return f"{__version__} {_stamp(Path(catalogue.__file__))}"


def _entry(remembered, stamp: list[int]) -> Entry | None:
    if not isinstance(remembered, dict) or remembered.get("stamp") != stamp:
        return None
    try:
        fields = dict(remembered["entry"])
        return Entry(**{**fields, "skills": tuple(fields["skills"])})
    except (KeyError, TypeError, ValueError):  # an entry written by hand, or half a file: read the YAML
        return None


def _read(file: Path) -> dict:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("rules") != _rules() or not isinstance(data.get("files"), dict):
        return {}
    return data["files"]


def _write(file: Path, files: dict) -> None:
    # a whole new file moved into place: a reader at the same moment sees the old one or the new one
    temporary = file.with_name(f".{file.name}.{os.getpid()}")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps({"rules": _rules(), "files": files}, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, file)
    except OSError:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass
