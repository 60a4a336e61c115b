"""The knowledge base parsed, and its matcher prepared, once per run instead of per test.

Every test that builds the services loads the knowledge base and prepares a matcher for
it: parsing the YAML and normalising every sample question took about two thirds of such
a test's set-up. The files do not change while the suite runs (a test that edits a copy
has other contents, hence its own entry), so

- each distinct set of files and approved additions is parsed once; every caller still
  gets its own copy of the result (a pickle round trip, under a millisecond), exactly
  what a fresh parse returns;
- the services get one matcher per distinct knowledge base, shared read-only: nothing
  changes a matcher after it is built, and the end of the run checks that nothing did.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import sys
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import bot.services.pending
import knowledge.loader
import knowledge.matcher
from knowledge.loader import Knowledge
from knowledge.matcher import Matcher, Normalizer


def _digest(*paths: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for root in paths:
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _settings(matcher: Matcher) -> dict[str, Any]:
    """What a test could change on a matcher: its tunable values."""
    return {
        name: value
        for name, value in vars(matcher).items()
        if isinstance(value, (bool, int, float, str, tuple, frozenset))
    }


class _Once:
    def __init__(self) -> None:
        self.parsed: dict[str, bytes] = {}
        self.matchers: dict[str, Matcher] = {}
        self.key_of: dict[int, str] = {}  # id of a knowledge base handed out -> its key

    def loader(self, load: Callable[..., Knowledge]) -> Callable[..., Knowledge]:
        def load_knowledge(
            directory: Path, learned: Path | None = None, extra: dict[str, Any] | None = None
        ) -> Knowledge:
            sources = [Path(directory)] + ([Path(learned)] if learned is not None else [])
            key = _digest(*sources) + json.dumps([str(learned), extra], sort_keys=True, default=str)
            if key not in self.parsed:
                # a KnowledgeError is raised here every time, as the real loader raises it
                self.parsed[key] = pickle.dumps(load(directory, learned, extra), pickle.HIGHEST_PROTOCOL)
            kb: Knowledge = pickle.loads(self.parsed[key])
            self.key_of[id(kb)] = key
            weakref.finalize(kb, self.key_of.pop, id(kb), None)
            return kb

        return load_knowledge

    def matcher(self, build: Callable[..., Matcher]) -> Callable[..., Matcher]:
        def prepared(kb: Knowledge, normalizer: Normalizer | None = None) -> Matcher:
            key = self.key_of.get(id(kb))
            if normalizer is not None:
                return Matcher(kb, normalizer)
            if key is None:
                return build(kb)
            if key not in self.matchers:
                self.matchers[key] = build(kb)
            return self.matchers[key]

        return prepared

    def check_unchanged(self) -> None:
        for key, shared in self.matchers.items():
            fresh = Matcher(pickle.loads(self.parsed[key]))
            assert _settings(shared) == _settings(fresh), (
                "a test changed a matcher the services share; give it its own Matcher(kb)"
            )


@contextmanager
def knowledge_once() -> Iterator[None]:
    """While active, ``load_knowledge`` (wherever it was imported) parses each distinct
    knowledge base once, and the product's code builds one ``Matcher`` per knowledge base."""
    once = _Once()
    patch = pytest.MonkeyPatch()
    loader, matcher = knowledge.loader.load_knowledge, knowledge.matcher.Matcher
    builder = bot.services.pending.build_matcher
    try:
        for name, module in list(sys.modules.items()):
            if getattr(module, "load_knowledge", None) is loader:
                patch.setattr(module, "load_knowledge", once.loader(loader))
            # only where the bot builds its matcher: tests build their own on purpose
            if (
                getattr(module, "Matcher", None) is matcher
                and name != "knowledge.matcher"
                and name.startswith(("bot.", "handlers."))
            ):
                patch.setattr(module, "Matcher", once.matcher(matcher))
            if getattr(module, "build_matcher", None) is builder and name.startswith(("bot.", "handlers.")):
                patch.setattr(module, "build_matcher", once.matcher(builder))
        yield
        once.check_unchanged()
    finally:
        patch.undo()
