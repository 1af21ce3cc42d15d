"""`AccountEvent`, the line of an event stream (private module; public via `stars.io`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import attrs

from stars import _validate as v
from stars.account import Snapshot, TransitionRecord
from stars.errors import InvalidValue


def _check_account_id(instance: Any, attribute: Any, value: Any) -> None:
    v.text("account", value)


def _check_event_id(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        v.text("id", value)
        if len(value) > MAX_EVENT_ID:
            raise InvalidValue("id", value, f"an event id of at most {MAX_EVENT_ID} characters")


MAX_EVENT_ID: Final = 200
"""The longest event id accepted (`AccountEvent.id`)."""


@attrs.frozen(slots=True)
class AccountEvent:
    """One line of an event stream: a snapshot or a transition record of one account.

    Attributes:
        account: The account's id.
        event: The snapshot or the record.
        id: The event's own id, given by the system that sent it (``None``: none). A
            stream delivered at least once may repeat a line; its id says it is the
            same event, so readers and stores count it once (see `read_events` and
            `stars.store.Store.ingest`).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Snapshot
        >>> from stars.io import AccountEvent
        >>> e = AccountEvent("acme", Snapshot(at=datetime(2025, 1, 1, tzinfo=timezone.utc)))
        >>> e.at.year
        2025
    """

    account: str = attrs.field(validator=_check_account_id)
    event: Snapshot | TransitionRecord = attrs.field()
    id: str | None = attrs.field(default=None, validator=_check_event_id)

    @event.validator
    def _check_event(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, Snapshot | TransitionRecord):
            raise InvalidValue("event", value, "a Snapshot or a TransitionRecord")

    @property
    def at(self) -> datetime:
        """When the event happened.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Snapshot
            >>> from stars.io import AccountEvent
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> AccountEvent("a", Snapshot(at=t)).at == t
            True
        """
        return self.event.at
