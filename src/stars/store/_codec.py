"""How a stored change is written and read: canonical JSON, people and free text by reference.

A change is one of an account's four kinds of change (``transition``, ``snapshot``,
``depth``, ``owner``), written as the canonical JSON of its `stars.io` document without
the ``schema`` and ``type`` keys (the row keeps those in columns), and without the
fields that hold nothing (null, or empty metrics): they read back as their defaults.
Fields that name a person hold the person's id in the store (an integer), and fields that may hold
personal free text hold the id of the text: the names and texts live in their own
tables, so erasing a person never rewrites a change.

Every time is written as the same instant in UTC (``+00:00``), as canonical JSON writes
it: the offset a time was made with is not kept, and a loaded change's times are in UTC
(equal to the ones saved, as instants).

The writers here are written out by hand for speed (one ingest writes a million of
them); a property test proves them equal to ``canonical_json(to_dict(value))`` with the
references put in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring as _esc
from typing import Any, Final

from stars._accounts import _record_unchecked
from stars.account import (
    Account,
    DepthPoint,
    OwnerChange,
    Snapshot,
    TransitionRecord,
)
from stars.errors import SchemaError
from stars.io import MAX_INT, SCHEMA, canonical_json, from_dict
from stars.stages import Cycle

__all__ = [
    "KINDS",
    "PERSONAL",
    "Refs",
    "decode",
    "encode",
    "kind_of",
    "people_in",
    "texts_in",
]

#: The kinds of change, in the order a batch stores changes made at the same instant.
KINDS: Final = ("snapshot", "depth", "owner", "transition")
_KIND_OF: Final[dict[type[Any], str]] = {
    Snapshot: "snapshot",
    DepthPoint: "depth",
    OwnerChange: "owner",
    TransitionRecord: "transition",
}
_RANK: Final = {kind: i for i, kind in enumerate(KINDS)}
#: The kinds of change that may name a person or hold personal free text.
PERSONAL_TYPES: Final = frozenset({TransitionRecord, OwnerChange})

#: Field by field, what may identify a person: ``"person"`` fields name one (stored by id
#: in the people table), ``"text"`` fields may hold personal free text (stored by id in the
#: texts table, attributed to the change's author). Erasing a person erases both.
PERSONAL: Final[Mapping[str, Mapping[str, str]]] = {
    "Account": {"owner": "person"},
    "TransitionRecord": {"actor": "person", "reason": "text"},
    "OwnerChange": {"owner": "person", "previous": "person", "by": "person", "reason": "text"},
}

#: What a forgotten person's name and an erased text read as (valid values, so every
#: account still loads and replays).
FORGOTTEN_PERSON: Final = "forgotten person #{id}"
ERASED_TEXT: Final = "[erased]"


def kind_of(item: object) -> str:
    """The kind of a change value."""
    return _KIND_OF[type(item)]


def rank(kind: str) -> int:
    """Where a kind sorts among changes made at one instant."""
    return _RANK[kind]


def author(item: object) -> str | None:
    """Who wrote a change's free text: the record's actor, the owner change's ``by``."""
    if type(item) is TransitionRecord:
        return item.actor
    if type(item) is OwnerChange:
        return item.by
    return None


def people_in(item: object) -> Iterable[str]:
    """The names of people a change holds."""
    kind = type(item)
    if kind is TransitionRecord:
        if item.actor is not None:  # type: ignore[attr-defined]
            yield item.actor  # type: ignore[attr-defined]
    elif kind is OwnerChange:
        yield item.owner  # type: ignore[attr-defined]
        for name in (item.previous, item.by):  # type: ignore[attr-defined]
            if name is not None:
                yield name


def texts_in(item: object) -> Iterable[tuple[str | None, str]]:
    """The (author, text) pairs of personal free text a change holds."""
    kind = type(item)
    if (kind is TransitionRecord or kind is OwnerChange) and item.reason is not None:  # type: ignore[attr-defined]
        yield author(item), item.reason  # type: ignore[attr-defined]


class Refs:
    """Ids of people and texts, resolved in the store for one batch."""

    __slots__ = ("people", "texts")

    def __init__(
        self, people: Mapping[str, int], texts: Mapping[tuple[str | None, str], int]
    ) -> None:
        self.people = people
        self.texts = texts


# --------------------------------------------------------------------------- writing
def iso(at: datetime) -> str:
    """A time as stored: the same instant in UTC, written ``+00:00`` (the canonical form)."""
    return (at if at.tzinfo is UTC else at.astimezone(UTC)).isoformat()


def _num(value: float | int | None) -> str:
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    if value.is_integer() and abs(value) <= MAX_INT:  # type: ignore[union-attr]
        return str(int(value))
    return float.__repr__(value)


def _flag(value: bool | None) -> str:
    return "null" if value is None else ("true" if value else "false")


def _transition(r: TransitionRecord, refs: Refs, at: str) -> str:
    actor = "" if r.actor is None else f'"actor":{refs.people[r.actor]},'
    reason = "" if r.reason is None else f',"reason":{refs.texts[(r.actor, r.reason)]}'
    return (
        f'{{{actor}"at":{_esc(at)},"cycle":"{r.cycle.value}","dest":{_esc(r.dest)},'
        f'"forced":{_flag(r.forced)}{reason},"source":{_esc(r.source)},'
        f'"trigger":{_esc(r.trigger)}}}'
    )


#: A snapshot's fields in key order, each with how it is written (``at`` and ``metrics``
#: are written apart).
_SNAPSHOT_FIELDS: Final = (
    ("adoption", "num"),
    ("at", "at"),
    ("band", "band"),
    ("champion_engaged", "flag"),
    ("contract_signed", "flag"),
    ("critical_risk", "flag"),
    ("csat", "num"),
    ("days_since_contact", "num"),
    ("expansion_open", "flag"),
    ("health", "num"),
    ("metrics", "metrics"),
    ("new_business_unit", "flag"),
    ("nps", "num"),
    ("open_tickets", "num"),
    ("reonboarding_agreed", "flag"),
    ("sentiment", "num"),
    ("success_metrics_agreed", "flag"),
)


def _snapshot(s: Snapshot, refs: Refs, at: str) -> str:
    parts = []
    for name, how in _SNAPSHOT_FIELDS:
        if how == "at":
            parts.append(f'"at":{_esc(at)}')
            continue
        value = getattr(s, name)
        if value is None:
            continue
        if how == "num":
            parts.append(f'"{name}":{_num(value)}')
        elif how == "flag":
            parts.append(f'"{name}":{"true" if value else "false"}')
        elif how == "band":
            parts.append(f'"band":"{value.value}"')
        elif value:  # metrics, left out when empty
            shown = ",".join(f"{_esc(k)}:{_num(value[k])}" for k in sorted(value))
            parts.append(f'"metrics":{{{shown}}}')
    return "{" + ",".join(parts) + "}"


def _depth(d: DepthPoint, refs: Refs, at: str) -> str:
    return f'{{"at":{_esc(at)},"depth":{_esc(d.depth)},"side":{_esc(d.side)}}}'


def _owner(c: OwnerChange, refs: Refs, at: str) -> str:
    people = refs.people
    by = "" if c.by is None else f',"by":{people[c.by]}'
    previous = "" if c.previous is None else f',"previous":{people[c.previous]}'
    reason = "" if c.reason is None else f',"reason":{refs.texts[(c.by, c.reason)]}'
    return f'{{"at":{_esc(at)}{by},"owner":{people[c.owner]}{previous}{reason}}}'


_WRITERS: Final[dict[type[Any], Callable[[Any, Refs, str], str]]] = {
    TransitionRecord: _transition,
    Snapshot: _snapshot,
    DepthPoint: _depth,
    OwnerChange: _owner,
}


def encode(item: Any, refs: Refs, at: str | None = None) -> str:
    """A change's body: its canonical JSON with people and texts as ids.

    ``at`` is ``iso(item.at)`` when the caller has it already.
    """
    return _WRITERS[type(item)](item, refs, iso(item.at) if at is None else at)


def encode_generic(item: object, refs: Refs) -> str:
    """The same body through `stars.io` (the reference the fast writers are tested against)."""
    from stars.io import to_dict

    doc = to_dict(item, canonical=True)
    del doc["schema"], doc["type"]
    fields = PERSONAL.get(type(item).__name__, {})
    who = author(item)
    for name, what in fields.items():
        value = doc.get(name)
        if value is None:
            continue
        doc[name] = refs.people[value] if what == "person" else refs.texts[(who, value)]
    # A stored body leaves out what holds nothing: null fields and empty metrics.
    doc = {k: v for k, v in doc.items() if v is not None and not (k == "metrics" and not v)}
    return canonical_json(doc)


# --------------------------------------------------------------------------- reading
class Names:
    """Names and texts by id, as read for one batch of rows (``None``: erased)."""

    __slots__ = ("people", "texts")

    def __init__(self, people: Mapping[int, str | None], texts: Mapping[int, str | None]) -> None:
        self.people = people
        self.texts = texts

    def person(self, ref: int | None) -> str | None:
        if ref is None:
            return None
        name = self.people.get(ref)
        return FORGOTTEN_PERSON.format(id=ref) if name is None else name

    def text(self, ref: int | None) -> str | None:
        if ref is None:
            return None
        text = self.texts.get(ref)
        return ERASED_TEXT if text is None else text


def refs_in(kind: str, body: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """The person ids and text ids a decoded body refers to."""
    fields = PERSONAL.get(_CLASS_NAME[kind], {})
    people: list[int] = []
    texts: list[int] = []
    for name, what in fields.items():
        ref = body.get(name)
        if type(ref) is int:
            (people if what == "person" else texts).append(ref)
    return people, texts


_CLASS_NAME: Final = {
    "transition": "TransitionRecord",
    "snapshot": "Snapshot",
    "depth": "DepthPoint",
    "owner": "OwnerChange",
    "account": "Account",
}
_CYCLES: Final = {c.value: c for c in Cycle}

#: The schema the first release of the store wrote (its states do not name one).
FIRST_SCHEMA: Final = "stars/1"

#: Upgrades of stored bodies written under an older schema: ``schema -> (kind, body) -> body``.
#: Each step brings a body one version forward; reading applies them until it is current.
UPGRADES: dict[str, tuple[str, Callable[[str, dict[str, Any]], dict[str, Any]]]] = {}


def upgrade(schema: str, kind: str, body: dict[str, Any], where: str) -> dict[str, Any]:
    """A stored body brought forward to the current schema (or a `SchemaError`)."""
    seen = 0
    while schema != SCHEMA:
        step = UPGRADES.get(schema)
        if step is None or seen > len(UPGRADES):
            known = ", ".join(repr(s) for s in (SCHEMA, *UPGRADES))
            raise SchemaError(f"{where}.schema", schema, f"a schema this release reads ({known})")
        schema, fn = step[0], step[1]
        body = fn(kind, body)
        seen += 1
    return body


def decode(kind: str, body: dict[str, Any], names: Names, where: str) -> Any:
    """Build a change value from its stored body (people and texts put back in)."""
    try:
        if kind == "transition":
            return _record_unchecked(
                body["trigger"],
                body["source"],
                body["dest"],
                _CYCLES[body["cycle"]],
                datetime.fromisoformat(body["at"]),
                names.person(body.get("actor")),
                names.text(body.get("reason")),
                body["forced"],
            )
        if kind == "snapshot":
            fields = dict(body)
            fields["at"] = datetime.fromisoformat(fields["at"])
            return Snapshot(**fields)
        if kind == "depth":
            return DepthPoint(datetime.fromisoformat(body["at"]), body["depth"], body["side"])
        if kind == "owner":
            return OwnerChange(
                datetime.fromisoformat(body["at"]),
                names.person(body["owner"]),  # type: ignore[arg-type]
                names.person(body.get("previous")),
                names.person(body.get("by")),
                names.text(body.get("reason")),
            )
    except SchemaError:
        raise
    except Exception as exc:  # a row that was changed by hand, or a damaged file
        doc = {"schema": SCHEMA, "type": _CLASS_NAME.get(kind, kind), **body}
        try:
            from_dict(doc, lifecycle=None)
        except SchemaError as err:
            raise SchemaError(f"{where}{err.path[1:]}", err.value, err.expected) from exc
        raise SchemaError(where, kind, f"a stored change stars can read ({exc!r})") from exc
    raise SchemaError(f"{where}.kind", kind, "one of " + ", ".join(repr(k) for k in KINDS))


def loads(text: str | bytes) -> Any:
    """Parse stored JSON (written by this module, so plain `json` will do)."""
    return json.loads(text)


def finite(value: float) -> bool:
    """Whether a number can be written (NaN and infinities cannot)."""
    return math.isfinite(value)


# --------------------------------------------------------------------------- accounts
def pending(account: Account, counts: Sequence[int]) -> list[Any]:
    """The account's changes past ``counts`` (history, snapshots, depths, owners), in order.

    Changes of different kinds are ordered by time, then snapshots, depths, owner changes
    and transitions at one instant (an observed snapshot before the move it allowed).
    """
    h, s, d, o = counts
    out: list[tuple[datetime, int, int, Any]] = []
    n = 0
    for rank_, items, start in (
        (0, account.snapshots, s),
        (1, account.depths, d),
        (2, account.owners, o),
        (3, account.history, h),
    ):
        for i in range(start, len(items)):
            item = items[i]
            out.append((item.at, rank_, n, item))
            n += 1
    out.sort(key=lambda row: (row[0], row[1], row[2]))
    return [row[3] for row in out]


def counts_of(account: Account) -> tuple[int, int, int, int]:
    """How many changes of each kind an account holds (history, snapshots, depths, owners)."""
    return (
        len(account._history),
        len(account._snapshots),
        len(account._depths),
        len(account._owners),
    )
