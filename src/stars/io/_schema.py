"""The JSON Schema (draft 2020-12) of every document type (private): `json_schema`."""

from __future__ import annotations

from typing import Any, Final

from stars.errors import UnknownName
from stars.io._codec import _REGISTRY
from stars.io._common import JSON_SCHEMA_DIALECT, SCHEMA

# =========================================================================== JSON Schema
_KINDS: Final = {
    "account": "Account",
    "snapshot": "Snapshot",
    "transition": "TransitionRecord",
    "transition_record": "TransitionRecord",
    "record": "TransitionRecord",
    "event": "AccountEvent",
    "lifecycle": "Lifecycle",
}


def json_schema(kind: str | type[Any] = "account") -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a document, so other services can check payloads.

    It is derived from the same field annotations the loader checks. The loader also
    checks what a schema cannot say (time order, history chains, value ranges, stages
    of the lifecycle), so a payload that passes the schema can still be refused.

    Args:
        kind: ``"account"``, ``"snapshot"``, ``"transition"``, ``"event"``,
            ``"lifecycle"``, any registered type name, or a registered class.

    Returns:
        A new JSON Schema dict.

    Raises:
        UnknownName: The kind is not known.

    Examples:
        >>> from stars.io import json_schema
        >>> s = json_schema("snapshot")
        >>> s["$schema"], s["properties"]["at"], s["required"]
        ('https://json-schema.org/draft/2020-12/schema', {'type': 'string', 'format': 'date-time'}, ['schema', 'type', 'at'])
    """  # noqa: E501
    _REGISTRY.load_all()
    if isinstance(kind, type):
        codec = _REGISTRY.find(kind)
        if codec is None:
            raise UnknownName("type", kind.__name__, sorted(_REGISTRY.by_name))
    else:
        name = _KINDS.get(kind, kind) if isinstance(kind, str) else kind
        codec = _REGISTRY.named(name)
        if codec is None:
            raise UnknownName("document kind", kind, [*_KINDS, *_REGISTRY.by_name])
    defs: dict[str, Any] = {}
    codec.add_schema(defs)
    body = dict(defs[codec.name])
    props = {"schema": {"const": SCHEMA}, **body.get("properties", {})}
    required = ["schema", "type", *(k for k in body.get("required", ()) if k != "type")]
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"https://stars.example/schema/{SCHEMA}/{codec.name}.json",
        **body,
        "properties": props,
        "required": required,
        "$defs": defs,
    }
