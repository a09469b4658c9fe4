"""Where templates live: the shipped bank (inside the package), plus any folders named by
--bank or the TUTOR_BANK environment variable (os.pathsep-separated). A template in a later
folder replaces a shipped one with the same id."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from backprop_tutor.bank.catalogue import Entry
from backprop_tutor.bank.catalogue_cache import cached_entries
from backprop_tutor.errors import TemplateError, did_you_mean

if TYPE_CHECKING:  # bank/template.py imports SymPy: only loading a template needs it
    from backprop_tutor.bank.template import Template

ENV = "TUTOR_BANK"


def shipped_bank() -> Path:
    """The bank installed inside the package; from a source checkout that is not installed
    (python -m backprop_tutor in the repository), the repository's problem_bank/ folder."""
    # The package's folder from its import spec, without importing it (nor importlib.resources,
    # a few per cent of `tutor bank list`); an installed bank is a plain folder, never a zip.
    from importlib.util import find_spec

    spec = find_spec("backprop_tutor.problem_bank")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    checkout = Path(__file__).resolve().parents[2] / "problem_bank"
    if checkout.is_dir():
        return checkout
    raise TemplateError("the shipped problem bank is missing from this installation; reinstall with pip install .")


@dataclass(frozen=True)
class Bank:
    folders: tuple[Path, ...]
    # Told of each broken template, which the catalogue then leaves out: one bad file in a
    # user's folder must not take `bank list`, `stats` or `practice` away for the rest. None:
    # a broken template is an error (`bank validate`, `solve`, `generate` name the one asked for).
    on_broken: Callable[[TemplateError], None] | None = field(default=None, compare=False)

    @classmethod
    def open(cls, extra: Sequence[str | Path] = (), only_extra: bool = False,
             on_broken: Callable[[TemplateError], None] | None = None) -> Bank:
        env = [p for p in os.environ.get(ENV, "").split(os.pathsep) if p]
        folders = [] if only_extra else [shipped_bank()]
        for folder in [*env, *extra]:
            path = Path(folder)
            if not path.is_dir():
                source = f"{ENV}" if str(folder) in env else "--bank"
                raise TemplateError(f"{source}: {folder}: no such folder of templates")
            folders.append(path)
        if not folders:
            raise TemplateError("--only-bank needs at least one --bank DIR (or TUTOR_BANK)")
        return cls(tuple(folders), on_broken)

    def paths(self) -> dict[str, Path]:
        """id → file, later folders winning; sorted by id for a stable listing."""
        found: dict[str, Path] = {}
        for folder in self.folders:
            for path in sorted(folder.glob("*.yaml")):
                found[path.stem] = path
        return dict(sorted(found.items()))

    def path(self, template_id: str) -> Path:
        paths = self.paths()
        if template_id not in paths:
            hint = did_you_mean(template_id, paths)
            raise TemplateError(f"unknown template {template_id!r}{hint}; `tutor bank list` shows them all")
        return paths[template_id]

    def load(self, template_id: str) -> Template:
        return _load(self.path(template_id))

    def templates(self) -> list[Template]:
        return [_load(p) for p in self.paths().values()]

    def entries(self) -> list[Entry]:
        """Every template's id, title, kind, level and skills, without loading the templates
        (nor, when none changed since the last run, reading them: bank/catalogue_cache.py)."""
        return cached_entries(list(self.paths().values()), self.on_broken)


@lru_cache(maxsize=256)
def _load_cached(path: str, mtime: float) -> Template:
    """`mtime` is part of the cache key only: an edited template is loaded again."""
    from backprop_tutor.bank.template import load_template

    return load_template(path)


def _load(path: Path) -> Template:
    return _load_cached(str(path), path.stat().st_mtime)
