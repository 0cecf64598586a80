"""Read a YAML file into plain data plus the line of every key.

PyYAML's loaders throw line numbers away; we compose the node tree ourselves
so that every validation problem can point at ``file:line``. Building the tree
is also where aliases are expanded, so this is where they are bounded: a
self-referencing alias, or aliases that would expand past :data:`MAX_ALIAS_NODES`
nodes ("billion laughs"), is a problem at the line of the key that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from traderctl.config.schema import Path

MAX_ALIAS_NODES = 10_000  # nodes reached through aliases, in the whole document
MAX_BYTES = 4 * 1024 * 1024  # a config file is a few KiB; this is not one


@dataclass
class YamlDocument:
    path: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[tuple[int, Path, str]] = field(default_factory=list)


class _Refused(Exception):
    """Stops building the document: an alias is recursive or expands too far."""

    def __init__(self, line: int, path: Path, message: str) -> None:
        super().__init__(message)
        self.line, self.path, self.message = line, path, message


def load_yaml_file(path: str) -> YamlDocument:
    """Parse ``path``; syntax errors and duplicate keys end up in ``problems``, never raise."""
    doc = YamlDocument(path=path, data=None)
    text = _read_text(path, doc)
    if text is None:
        return doc
    node = _compose(text, doc)
    if node is not None:
        try:
            doc.data = _Builder(doc).build(node, ())
        except _Refused as exc:
            doc.data = None
            doc.problems.append((exc.line, exc.path, exc.message))
        except RecursionError:
            doc.data = None
            doc.problems.append((node.start_mark.line + 1, (), "the document is nested too deeply"))
    return doc


def parse_value(text: str) -> Any:
    """One value from an environment variable or ``--set``, with the file's alias bounds;
    text that is not clean YAML stays the text itself."""
    doc = YamlDocument(path="<value>", data=None)
    node = _compose(text, doc)
    if node is None or doc.problems:
        return text
    try:
        data = _Builder(doc).build(node, ())
    except (_Refused, RecursionError):
        return text
    return text if doc.problems else data


def _read_text(path: str, doc: YamlDocument) -> str | None:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        doc.problems.append((0, (), f"cannot read config file: {exc.strerror or exc}"))
        return None
    if len(raw) > MAX_BYTES:
        doc.problems.append((0, (), f"the file is larger than {MAX_BYTES // 1024 // 1024} MiB"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        doc.problems.append((line, (), f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                                       f"offset {exc.start})"))
        return None


def _compose(text: str, doc: YamlDocument) -> Any:
    import yaml

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.compose(text, Loader=loader_cls)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        doc.problems.append((line, (), f"YAML syntax error: {exc.problem or exc}"))
    except yaml.reader.ReaderError as exc:
        line = text[:exc.position].count("\n") + 1
        doc.problems.append((line, (), f"YAML syntax error: {exc.reason} "
                                       f"(character {exc.character!r})"))
    except yaml.YAMLError as exc:
        doc.problems.append((0, (), f"YAML syntax error: {exc}"))
    except RecursionError:
        doc.problems.append((0, (), "YAML syntax error: the document is nested too deeply"))
    return None


class _Builder:
    def __init__(self, doc: YamlDocument) -> None:
        import yaml

        self.doc = doc
        self.constructor = yaml.constructor.SafeConstructor()
        self.yaml = yaml
        self.built: set[int] = set()  # nodes seen once: seeing one again means an alias
        self.active: set[int] = set()  # nodes being built: meeting one means recursion
        self.alias_depth = 0
        self.alias_nodes = 0

    def build(self, node: Any, path: Path) -> Any:
        key = id(node)
        if key in self.active:
            raise _Refused(self._line(path, node), path, "recursive YAML alias")
        alias = key in self.built
        self.built.add(key)
        self.alias_depth += alias
        if self.alias_depth:
            self.alias_nodes += 1
            if self.alias_nodes > MAX_ALIAS_NODES:
                raise _Refused(self._line(path, node), path,
                               f"YAML aliases expand to more than {MAX_ALIAS_NODES} values")
        self.active.add(key)
        try:
            return self._build(node, path, self._line(path, node) if alias else None)
        finally:
            self.active.discard(key)
            self.alias_depth -= alias

    def _line(self, path: Path, node: Any) -> int:
        """Where ``path`` is written: the nearest key known on the way there (an aliased
        node's own mark is its anchor's, somewhere else in the file)."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.doc.lines:
                return self.doc.lines[path[:end]]
        return node.start_mark.line + 1

    def _build(self, node: Any, path: Path, alias_line: int | None) -> Any:
        self.doc.lines.setdefault(path, alias_line or node.start_mark.line + 1)
        if isinstance(node, self.yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, self.yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node: Any, path: Path) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except self.yaml.YAMLError as exc:
            self.doc.problems.append((node.start_mark.line + 1, path, f"bad value: {exc}"))
            return None

    def _mapping(self, node: Any, path: Path) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.doc.problems.append((line, path, "YAML merge keys (<<) are not supported"))
                continue
            if not isinstance(key_node, self.yaml.ScalarNode):
                self.doc.problems.append((line, path, "a key must be a plain value, "
                                                      "not a list or mapping"))
                continue
            key = self._scalar(key_node, path)
            if not isinstance(key, str):
                key = str(key)
            child = (*path, key)
            if key in out:
                self.doc.problems.append((line, child, "duplicate key"))
            self.doc.lines[child] = line
            out[key] = self.build(value_node, child)
        return out
