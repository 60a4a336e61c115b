"""YAML and JSON files from outside (config, /cek answers): bounded in size, no aliases.

yaml.safe_load is safe against code execution, not against size: nine nested levels of
aliases ("billion laughs") expand to a billion nodes the moment anything walks the data.
Nothing we read needs an alias, so the loader refuses the first one it meets, and a file
over the size limit is refused before it is parsed. Files are parsed with libyaml; one it
cannot read plainly (an alias, deep nesting, a syntax error) is read again by the pure
Python loader, which names the problem and its line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# a generous config is about 6 KB, a /cek answer file under 2 KB
DEFAULT_MAX_BYTES = 1024 * 1024


class InputFileError(Exception):
    """A file cannot be read as data; the message is one line that says why."""


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (*name) instead of expanding them."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", event.start_mark)
        return super().compose_node(parent, index)


# libyaml's parser where PyYAML was built with it: about ten times faster than the pure
# Python one (the message catalogs load in 13 ms instead of 190 ms)
_FastLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# deeper than any file we read needs, shallow enough for the pure-Python loader to decide
MAX_FAST_DEPTH = 64


def _plain(root: yaml.Node) -> bool:
    """No node reached twice (an alias) and nothing nested deeper than MAX_FAST_DEPTH.

    libyaml cannot be told to refuse aliases as they are parsed; an alias comes out as a
    node shared by two parents. A walk that stops at the first shared node stays linear
    however many times the aliases would expand."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen or depth > MAX_FAST_DEPTH:
            return False
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
    return True


def _fast(text: str) -> tuple[bool, Any]:
    """(True, data) when the fast parser read a plain document; (False, None) otherwise,
    and the pure-Python loader decides (and names the problem and its line)."""
    loader = _FastLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return True, None
        if not _plain(node):
            return False, None
        return True, loader.construct_document(node)
    except (yaml.YAMLError, RecursionError):
        return False, None
    finally:
        loader.dispose()


def loads(text: str, name: str = "input") -> Any:
    """Parse YAML (or JSON, which is YAML) text; InputFileError with the line on failure."""
    done, data = _fast(text)
    if done:
        return data
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        if problem == "aliases (*name) are not allowed":
            raise InputFileError(f"{name}: YAML aliases (*name) are not allowed{where}") from None
        raise InputFileError(f"{name} is not valid YAML{where}") from None
    except RecursionError:
        raise InputFileError(f"{name}: nested too deeply") from None


def load_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Read and parse one YAML/JSON file, refusing what is too large, not UTF-8 or aliased."""
    source = Path(path)
    try:
        size = source.stat().st_size
        if size > max_bytes:
            raise InputFileError(f"{source}: {size:,} bytes is too large (at most {max_bytes:,})")
        text = source.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(f"{source}: file not found") from None
    except IsADirectoryError:
        raise InputFileError(f"{source}: is a folder, not a file") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{source}: not UTF-8 text; save the file as UTF-8") from None
    except OSError as exc:
        raise InputFileError(f"{source}: cannot read ({exc.strerror})") from None
    return loads(text, str(source))
