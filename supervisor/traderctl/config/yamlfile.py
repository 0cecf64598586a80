"""Read a YAML file into plain data plus the line of every key.

PyYAML's loaders throw line numbers away; we compose the node tree ourselves
so that every validation problem can point at ``file:line``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from traderctl.config.schema import Path


@dataclass
class YamlDocument:
    path: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[tuple[int, Path, str]] = field(default_factory=list)


def load_yaml_file(path: str) -> YamlDocument:
    """Parse ``path``; syntax errors and duplicate keys end up in ``problems``, never raise."""
    import yaml

    doc = YamlDocument(path=path, data=None)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        doc.problems.append((0, (), f"cannot read config file: {exc.strerror or exc}"))
        return doc
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader_cls)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 0
        problem = getattr(exc, "problem", None) or str(exc)
        doc.problems.append((line, (), f"YAML syntax error: {problem}"))
        return doc
    if node is not None:
        builder = _Builder(doc)
        doc.data = builder.build(node, ())
    return doc


class _Builder:
    def __init__(self, doc: YamlDocument) -> None:
        import yaml

        self.doc = doc
        self.constructor = yaml.constructor.SafeConstructor()
        self.yaml = yaml

    def build(self, node: Any, path: Path) -> Any:
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, self.yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, self.yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node, deep=True)
        except self.yaml.YAMLError as exc:
            self.doc.problems.append((node.start_mark.line + 1, path, f"bad value: {exc}"))
            return None

    def _mapping(self, node: Any, path: Path) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.doc.problems.append((key_node.start_mark.line + 1, path,
                                          "YAML merge keys (<<) are not supported"))
                continue
            key = self.constructor.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                key = str(key)
            child = (*path, key)
            if key in out:
                self.doc.problems.append((line, child, "duplicate key"))
            self.doc.lines[child] = line
            out[key] = self.build(value_node, child)
        return out
