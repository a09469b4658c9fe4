"""Shared fixtures: the PRODUCT.md example network and a way to write network files."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

EXAMPLE = {
    "name": "two-two-two example",
    "input": [0.05, 0.10],
    "target": [0.01, 0.99],
    "layers": [
        {"activation": "sigmoid", "weights": [[0.15, 0.20], [0.25, 0.30]], "bias": [0.35, 0.35]},
        {"activation": "sigmoid", "weights": [[0.40, 0.45], [0.50, 0.55]], "bias": [0.60, 0.60]},
    ],
    "loss": "half_sse",
    "learning_rate": 0.5,
}


@pytest.fixture
def example() -> dict:
    return copy.deepcopy(EXAMPLE)


@pytest.fixture
def write_network(tmp_path: Path):
    def write(data, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        elif name.endswith(".json"):
            path.write_text(json.dumps(data), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def catalogue_cache(tmp_path_factory, monkeypatch) -> Path:
    """The catalogue cache (bank/catalogue_cache.py) of the test run, not the user's."""
    folder = tmp_path_factory.getbasetemp() / "catalogue-cache"
    monkeypatch.setenv("TUTOR_CACHE", str(folder))
    return folder
