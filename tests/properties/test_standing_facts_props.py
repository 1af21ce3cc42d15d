"""Property: `Account.known` carries each standing flag from the last snapshot that reported it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import given
from hypothesis import strategies as st

from stars import STARS, Account, Snapshot
from stars.account import CARRIED

T0 = datetime(2024, 1, 1, tzinfo=UTC)
FLAGS = (*CARRIED, "reonboarding_agreed", "new_business_unit")
flag_values = st.fixed_dictionaries({name: st.none() | st.booleans() for name in FLAGS})


@given(st.lists(flag_values, min_size=1, max_size=12), st.integers(0, 12), st.booleans())
def test_known_is_the_last_report_of_each_standing_flag(
    reports: list[dict[str, bool | None]], cut: int, observed: bool
) -> None:
    snaps = [Snapshot(at=T0 + timedelta(days=i), **r) for i, r in enumerate(reports)]
    if observed:  # grown one snapshot at a time, asked after every step
        account = Account("a")
        for snap in snaps:
            STARS.observe(account, snap)
            account.known()
    else:
        account = Account("a", snapshots=snaps)
    at = T0 + timedelta(days=cut, hours=1)
    seen = reports[: cut + 1]
    known = account.known(at)
    assert known is not None
    for name in CARRIED:
        reported = [r[name] for r in seen if r[name] is not None]
        assert getattr(known, name) == (reported[-1] if reported else None), name
    for name in ("reonboarding_agreed", "new_business_unit"):
        assert getattr(known, name) == seen[-1][name]
    # everything but the carried flags is the latest snapshot's own
    own = attrs.evolve(known, **{n: getattr(snaps[len(seen) - 1], n) for n in CARRIED})
    assert own == snaps[len(seen) - 1]
