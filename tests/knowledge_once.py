"""The knowledge base parsed once per run instead of once per test.

Every test that builds the services loads the knowledge base, and parsing its YAML was
about a quarter of a second of each such test's set-up. The files do not change while
the suite runs (a test that edits a copy has other contents, hence its own entry), so
each distinct set of files and approved additions is parsed once; every caller still
gets its own copy of the result (a pickle round trip, under a millisecond), exactly
what a fresh parse returns.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import knowledge.loader
from knowledge.loader import Knowledge


def _digest(*paths: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for root in paths:
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _parsed_once(load: Callable[..., Knowledge]) -> Callable[..., Knowledge]:
    parsed: dict[tuple[str, str], bytes] = {}

    def load_knowledge(directory: Path, learned: Path | None = None,
                       extra: dict[str, Any] | None = None) -> Knowledge:
        sources = [Path(directory)] + ([Path(learned)] if learned is not None else [])
        key = (_digest(*sources), json.dumps([str(learned), extra], sort_keys=True,
                                             default=str))
        if key not in parsed:
            # a KnowledgeError is raised here every time, as the real loader raises it
            parsed[key] = pickle.dumps(load(directory, learned, extra), pickle.HIGHEST_PROTOCOL)
        result: Knowledge = pickle.loads(parsed[key])
        return result

    return load_knowledge


@contextmanager
def knowledge_parsed_once() -> Iterator[None]:
    """While active, ``load_knowledge`` (wherever it was imported) parses each distinct
    knowledge base once."""
    original = knowledge.loader.load_knowledge
    cached = _parsed_once(original)
    patch = pytest.MonkeyPatch()
    try:
        for module in list(sys.modules.values()):
            if getattr(module, "load_knowledge", None) is original:
                patch.setattr(module, "load_knowledge", cached)
        yield
    finally:
        patch.undo()
