"""A failed `tutor generate` leaves no empty folders behind.

The students' files are written into a staging folder inside --out as they are made, and moved
into place only when every student is done (homework/writer.py, which removes the staging folder
whatever happens). But a run can still stop half-way (a disk full, a file where a folder goes, a
template that fails, Ctrl-C): the folders made by then — --out itself and its missing parents,
sheets/, keys/, answers/ — would stay, empty, and the next run would find a non-empty --out. Take `Folders.before(out)` ahead of writing; on failure, `remove_new()`
removes every folder made since that is still empty. Folders that were there before, and any
file, are left as they were.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Folders:
    out: Path
    existing: frozenset[Path]  # the folders under out before the run
    missing: tuple[Path, ...]  # out and its parents that did not exist, innermost first

    @classmethod
    def before(cls, out: Path) -> Folders:
        missing = []
        folder = out.absolute()
        while not folder.exists() and folder != folder.parent:
            missing.append(folder)
            folder = folder.parent
        return cls(out, frozenset(_folders(out)), tuple(missing))

    def remove_new(self) -> None:
        made = sorted(_folders(self.out) - self.existing, key=lambda p: len(p.parts), reverse=True)  # deepest first
        for folder in made + list(self.missing):
            try:
                folder.rmdir()  # an empty folder only: rmdir refuses one with anything in it
            except OSError:
                pass


def _folders(out: Path) -> set[Path]:
    """Every folder under `out` (itself not included), without following links out of it."""
    if not out.is_dir():
        return set()
    found = set()
    for root, dirs, _ in os.walk(out):
        found.update(Path(root).absolute() / d for d in dirs)
    return found
