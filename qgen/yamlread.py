"""Reading a YAML file (a bank, a pin file, a --map file) safely and in bounded time and memory.

`read_yaml(path)` parses with PyYAML's safe loader; a mapping remembers the line of each key
(`.lines`), so errors can name `bank.yaml:12`. Before anything is built, the document is refused
if it is over 1 MB, nests more than 40 levels, expands (through aliases) to more than 100,000
values, repeats a key in one mapping (both lines named) or holds control characters in text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from qgen.errors import BankError


class _Mapping(dict):
    """A YAML mapping that remembers the line of each key (1-based)."""

    lines: dict[Any, int]


class _Loader(yaml.SafeLoader):
    pass


class _Duplicate(Exception):
    """A key given twice in one mapping: its two lines."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    m = _Mapping(loader.construct_mapping(node, deep=True))
    m.lines = {}
    for k, _ in node.value:
        key = loader.construct_object(k, deep=True)
        if key in m.lines:
            raise _Duplicate(key, m.lines[key], k.start_mark.line + 1)
        m.lines[key] = k.start_mark.line + 1
    return m


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

MAX_YAML_BYTES = 1_000_000  # a bank, pin or mapping file
MAX_YAML_NODES = 100_000  # values after aliases are expanded (an alias bomb has billions)
MAX_YAML_DEPTH = 40  # nested lists and mappings
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _check_nodes(path: Path, root: yaml.Node) -> None:
    """Refuse a document too large once aliases are expanded, nested too deeply, or holding control
    characters in its text (they would break the XML of an LMS export); in time linear in its nodes."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_YAML_DEPTH:
            raise BankError(f"{path}:{node.start_mark.line + 1}: nested more than {MAX_YAML_DEPTH} levels deep; "
                            "a bank needs a few")
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else \
            list(node.value) if isinstance(node, yaml.SequenceNode) else []
        if done or not children:
            if not children and isinstance(node, yaml.ScalarNode) and _CONTROL.search(node.value):
                raise BankError(f"{path}:{node.start_mark.line + 1}: a control character "
                                f"(U+{ord(_CONTROL.search(node.value).group()):04X}) in the text; remove it")
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[id(node)] > MAX_YAML_NODES:
                raise BankError(f"{path}: more than {MAX_YAML_NODES:,} values once its aliases (*name) are "
                                "expanded; a bank needs far fewer (an alias bomb?)")
            continue
        if id(node) in sizes:
            continue
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)


_QUOTED = re.compile(r"'[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\"|#[^\n]*")


def _flow_depth(text: str) -> int:
    """How deep `[` and `{` nest in the text (quoted strings and comments left out): checked before
    parsing, whose recursion would take seconds to fail on thousands of levels."""
    depth = deepest = 0
    for ch in _QUOTED.sub("", text):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(depth - 1, 0)
    return deepest


def read_yaml(path: Path) -> Any:
    """Parse a YAML file safely, in bounded time and memory: a syntax error names the file, line and
    column; a key given twice names both lines; a file over 1 MB, an alias bomb, deep nesting or a
    control character is refused."""
    try:
        size = Path(path).stat().st_size
        if size > MAX_YAML_BYTES:
            raise BankError(f"{path}: {size:,} bytes; a bank, pin or mapping file is at most {MAX_YAML_BYTES:,}")
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BankError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BankError(f"{path}: is a folder; give a YAML file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BankError(f"{path}: cannot be read ({e})") from None
    if _flow_depth(text) > MAX_YAML_DEPTH:
        raise BankError(f"{path}: brackets nested more than {MAX_YAML_DEPTH} levels deep; a bank needs a few")
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            _check_nodes(path, root)
            return loader.construct_document(root)
        finally:
            loader.dispose()
    except _Duplicate as e:
        key, first, second = e.args
        raise BankError(f"{path}:{second}: {key!r} is given twice (lines {first} and {second}); keep one") from None
    except RecursionError:
        raise BankError(f"{path}: nested too deeply; a bank needs a few levels") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise BankError(f"{where}: invalid YAML: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise BankError(f"{path}: invalid YAML: {e}") from None
