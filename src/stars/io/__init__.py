"""Lossless JSON, JSON Lines and CSV in and out, with a versioned schema.

Services keep accounts between requests. This module turns every public value of
`stars` into plain JSON and back, and refuses anything it cannot load cleanly:

- `to_dict` / `from_dict` and `dumps` / `loads` convert values
  of registered frozen attrs classes. Every document names its ``"schema"`` version
  (``"stars/1"``) and its ``"type"``; nested values carry their own ``"type"``.
- Loading looks the ``"type"`` up in an explicit registry: `stars`' own document
  types (their module is imported when a document first names one) and the classes
  given to `register`; the input never chooses code to import or run. It checks
  every field against the class's annotations, then calls the class itself so its
  validators run. Any failure is a
  `StarsError` (mostly `SchemaError` naming the
  JSON path, e.g. ``$.history[3].at``); no other exception escapes, and nothing is
  half-built.
- Accounts loaded with a lifecycle (``STARS`` by default) are checked against it:
  every stage must exist and every recorded transition must be an edge of its graph.
- `write_events` / `read_events` stream snapshots and transition records as
  JSON Lines; `read_accounts_csv` and `read_snapshots_csv` import CSV with a
  report of the rows they had to reject.
- `json_schema` describes the documents (JSON Schema, draft 2020-12), built from
  the same field metadata the loader uses.
- `lifecycle_to_dict` / `lifecycle_from_dict` carry a lifecycle definition
  as data; guards travel by name and are looked up in a registry (`GUARDS`).

Registering more classes: plain frozen attrs classes whose fields are simple types
(str, int, float, bool, None, aware datetimes, enums, tuples, frozensets, mappings
with string keys, other attrs classes) need nothing more than `register`. The
value classes of ``stars.health``, ``stars.depth``, ``stars.maturity``,
``stars.journey``, ``stars.recovery``, ``stars.portfolio`` and ``stars.backtesting`` are
registered when a document, a value being written, `registered_types` or
`json_schema` first names them; writing a value imports only what it holds. A
class holding something that is not plain data (a portfolio that refers to its
lifecycle, say) registers a pair of hooks: ``encode(value)`` returns the fields as
a mapping of encodable values, and ``decode(data, ctx, path)`` builds the value,
using `LoadContext.value` for each field so that errors keep their JSON path.

Examples:
    >>> from datetime import datetime, timezone
    >>> from stars import STARS, Account, Snapshot
    >>> from stars.io import dumps, loads
    >>> acme = Account("acme", name="Acme Corp")
    >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
    >>> _ = STARS.observe(acme, Snapshot(at=t, health=82, contract_signed=True))
    >>> _ = STARS.fire(acme, "sign", at=t)
    >>> text = dumps(acme)
    >>> text[:46]
    '{"schema":"stars/1","type":"Account","id":"acm'
    >>> copy = loads(text)
    >>> copy == acme, copy.stage, copy.version
    (True, 'seed', 2)
"""

from __future__ import annotations

from stars.io._codec import (
    LoadContext,
    dumps,
    from_dict,
    loads,
    register,
    registered_types,
    to_dict,
)
from stars.io._common import (
    EARLIEST,
    JSON_SCHEMA_DIALECT,
    LATEST,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_INT,
    SCHEMA,
)
from stars.io._csv_io import (
    CsvImport,
    RejectedRow,
    read_accounts_csv,
    read_snapshots_csv,
    write_accounts_csv,
    write_snapshots_csv,
)
from stars.io._event import MAX_EVENT_ID, AccountEvent
from stars.io._json import canonical_json
from stars.io._jsonl import accounts_from_events, events_of, read_events, write_events
from stars.io._lifecycles import lifecycle_from_dict, lifecycle_to_dict
from stars.io._schema import json_schema
from stars.io._stage_events import (
    StageEvent,
    accounts_from_stage_events,
    read_stage_events_csv,
    write_stage_events_csv,
)

__all__ = [
    "EARLIEST",
    "JSON_SCHEMA_DIALECT",
    "LATEST",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_EVENT_ID",
    "MAX_INT",
    "SCHEMA",
    "AccountEvent",
    "CsvImport",
    "LoadContext",
    "RejectedRow",
    "StageEvent",
    "accounts_from_events",
    "accounts_from_stage_events",
    "canonical_json",
    "dumps",
    "events_of",
    "from_dict",
    "json_schema",
    "lifecycle_from_dict",
    "lifecycle_to_dict",
    "loads",
    "read_accounts_csv",
    "read_events",
    "read_snapshots_csv",
    "read_stage_events_csv",
    "register",
    "registered_types",
    "to_dict",
    "write_accounts_csv",
    "write_events",
    "write_snapshots_csv",
    "write_stage_events_csv",
]
