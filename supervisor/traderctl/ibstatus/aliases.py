"""Which exchanges and IB systems a notice names: the alias table and the whole-word matcher.

The table ships as ``exchanges.yaml`` (package data) and is extended by the user's
``checks.ib_status.aliases`` (alias -> canonical code, user entries win). Matching rules, chosen
to avoid false positives from short codes that are also English words or word fragments:

* every alias matches whole words only (``ICE`` never inside ``service``, ``ASX`` never inside
  ``NASX``, ``BM`` never inside ``IBM``);
* an alias written without lower-case letters is a *code* (``ICE``, ``OSE``, ``SIX``, ``XNYS``,
  ``TWS``) and matches only in exactly that case, so ``ice``, ``close``, ``six`` and ``box`` in
  prose are not codes; an alias with lower-case letters is a *name* and matches in any case with
  any whitespace between its words;
* the longest alias starting at a position wins (``NYSE Arca`` is ARCA only);
* a code followed or preceded by ``.X`` is part of a different dotted code (``OSE.JPN``).

Import-light on purpose: PyYAML is imported only when the shipped table is first loaded.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from traderctl.logs import get_logger

log = get_logger(__name__)

TABLE_RESOURCE = "exchanges.yaml"


def is_code(alias: str) -> bool:
    """An alias with no lower-case letter is a code and is matched case-sensitively."""
    return not any(ch.islower() for ch in alias)


def _norm(alias: str) -> str:
    return " ".join(alias.split())


def _fold(alias: str) -> str:
    return _norm(alias).casefold()


@dataclass(frozen=True)
class Match:
    """The canonical exchanges and systems a text names."""

    exchanges: frozenset[str] = frozenset()
    systems: frozenset[str] = frozenset()


@dataclass(frozen=True, eq=False)
class AliasTable:
    """Canonical exchanges and systems plus every alias that names them.

    ``aliases`` maps the alias as written to its canonical exchange code or system id; the
    canonical exchange codes are aliases of themselves.
    """

    exchanges: Mapping[str, str]
    systems: Mapping[str, str]
    critical_systems: frozenset[str]
    aliases: Mapping[str, str]
    _matcher: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        _check_conflicts(self.aliases)
        unknown = {t for t in self.aliases.values() if t not in self.exchanges
                   and t not in self.systems}
        if unknown:
            raise ValueError(f"aliases point at undeclared codes: {sorted(unknown)}")

    def is_system(self, code: str) -> bool:
        return code in self.systems

    def resolve(self, name: str) -> str | None:
        """Canonical code for a whole name as a user would write it in config (any case)."""
        return _resolve(name, self.exchanges, self.systems, self.aliases)

    def with_aliases(self, extra: Mapping[str, str] | None) -> AliasTable:
        """A new table with ``extra`` (alias -> canonical) merged over this one.

        A target that is a system id or resolves to a known code maps there; anything else
        becomes a new exchange code (upper-cased), itself an alias, so users can add venues
        the shipped table lacks.
        """
        if not extra:
            return self
        exchanges = dict(self.exchanges)
        aliases = dict(self.aliases)
        for alias, target in extra.items():
            alias = _norm(str(alias))
            if not alias:
                raise ValueError("empty alias in checks.ib_status.aliases")
            canonical = _resolve(str(target), exchanges, self.systems, aliases)
            if canonical is None:
                canonical = _norm(str(target)).upper()
                if not canonical:
                    raise ValueError(f"alias {alias!r} has an empty target")
                exchanges.setdefault(canonical, canonical)
                aliases[canonical] = canonical
            # The user's entry wins over any shipped alias spelt the same way (any case).
            for old in [a for a in aliases if _fold(a) == _fold(alias)]:
                del aliases[old]
            aliases[alias] = canonical
        return AliasTable(exchanges, self.systems, self.critical_systems, aliases)

    def with_exchanges(self, codes: Iterable[str]) -> AliasTable:
        """Make sure each code is known, adding unknown ones as new self-named exchanges."""
        extra = {c: c for c in codes if self.resolve(c) is None}
        return self.with_aliases(extra)

    def find(self, text: str) -> Match:
        """The canonical exchanges and systems ``text`` names (see module rules)."""
        pattern, exact, folded = self._compiled()
        exchanges: set[str] = set()
        systems: set[str] = set()
        for m in pattern.finditer(text):
            key = _norm(m.group(0))
            target = exact.get(key) or folded.get(key.casefold())
            if target is None:  # cannot happen: every alternative comes from the maps
                continue
            (systems if target in self.systems else exchanges).add(target)
        return Match(frozenset(exchanges), frozenset(systems))

    def _compiled(self) -> tuple[re.Pattern[str], dict[str, str], dict[str, str]]:
        if not self._matcher:
            self._matcher["compiled"] = _compile(self.aliases)
        return self._matcher["compiled"]


def _resolve(name: str, exchanges: Mapping[str, str], systems: Mapping[str, str],
             aliases: Mapping[str, str]) -> str | None:
    folded = _fold(name)
    for code in (*exchanges, *systems):
        if code.casefold() == folded:
            return code
    for alias, target in aliases.items():
        if _fold(alias) == folded:
            return target
    return None


def _check_conflicts(aliases: Mapping[str, str]) -> None:
    """Refuse a table where one spelling (ignoring case) could mean two different things."""
    seen: dict[str, tuple[str, str]] = {}
    for alias, target in aliases.items():
        key = _fold(alias)
        if key in seen and seen[key][1] != target:
            other = seen[key][0]
            # Two codes differing in case (e.g. "NSE" vs "Nse") are only a conflict if one of
            # them is a name, since a name matches every casing.
            if not (is_code(alias) and is_code(other) and _norm(alias) != _norm(other)):
                raise ValueError(f"alias {alias!r} -> {target} conflicts with "
                                 f"{other!r} -> {seen[key][1]}")
        seen.setdefault(key, (alias, target))


def _compile(aliases: Mapping[str, str]) -> tuple[re.Pattern[str], dict[str, str], dict[str, str]]:
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    alternatives: list[tuple[int, str]] = []
    for alias, target in aliases.items():
        norm = _norm(alias)
        body = r"\s+".join(re.escape(w) for w in norm.split(" "))
        if is_code(norm):
            exact[norm] = target
            alternatives.append((len(norm), body))
        else:
            folded[norm.casefold()] = target
            alternatives.append((len(norm), f"(?i:{body})"))
    alternatives.sort(key=lambda item: -item[0])
    joined = "|".join(body for _, body in alternatives) or r"(?!x)x"
    pattern = re.compile(rf"(?<!\w)(?<!\w\.)(?:{joined})(?!\w)(?!\.\w)")
    return pattern, exact, folded


def _table_from_data(data: Any) -> AliasTable:
    """Build a table from the YAML structure, with errors that name the bad entry."""
    if not isinstance(data, dict) or not isinstance(data.get("exchanges"), dict) \
            or not isinstance(data.get("systems"), dict):
        raise ValueError("alias table needs 'exchanges' and 'systems' mappings")
    exchanges: dict[str, str] = {}
    systems: dict[str, str] = {}
    critical: set[str] = set()
    aliases: dict[str, str] = {}
    for code, entry in data["exchanges"].items():
        code = str(code)
        if not isinstance(entry, dict):
            raise ValueError(f"exchange {code!r}: entry must be a mapping")
        exchanges[code] = str(entry.get("name", code))
        aliases[code] = code
        for alias in entry.get("aliases", []) or []:
            aliases[_norm(str(alias))] = code
    for sid, entry in data["systems"].items():
        sid = str(sid)
        if not isinstance(entry, dict):
            raise ValueError(f"system {sid!r}: entry must be a mapping")
        systems[sid] = str(entry.get("name", sid))
        if entry.get("critical", False):
            critical.add(sid)
        for alias in entry.get("aliases", []) or []:
            aliases[_norm(str(alias))] = sid
    return AliasTable(exchanges, systems, frozenset(critical), aliases)


@functools.cache
def shipped_table() -> AliasTable:
    """The alias table shipped with traderctl (parsed once per process)."""
    import yaml  # lazy: keep module import light

    text = resources.files("traderctl.ibstatus").joinpath(TABLE_RESOURCE).read_text("utf-8")
    return _table_from_data(yaml.safe_load(text))


def load_alias_table(extra: Mapping[str, str] | None = None,
                     exchanges: Iterable[str] = ()) -> AliasTable:
    """Shipped table + config aliases + any user exchange the table does not know yet."""
    table = shipped_table().with_aliases(extra)
    unknown = [c for c in exchanges if table.resolve(c) is None]
    if unknown:
        log.warning("ib_status_unknown_exchanges", exchanges=unknown,
                    hint="added as plain codes; map names to them with checks.ib_status.aliases")
    return table.with_exchanges(unknown)
