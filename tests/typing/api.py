"""Type-checked by `mypy --strict` in `make test`: the documented usage must type-check."""

from __future__ import annotations

from datetime import UTC, datetime

from stars import (
    STARS,
    Account,
    Band,
    Diagnosis,
    HookEvent,
    Snapshot,
    TransitionRecord,
    Verdict,
    episodes,
    handover_brief,
)

at = datetime(2025, 1, 1, tzinfo=UTC)
acct: Account = STARS.new_account("acme", owner="dana")
snap: Snapshot = STARS.observe(acct, Snapshot(at=at, health=80, contract_signed=True))
band: Band | None = snap.band
record: TransitionRecord = STARS.fire(acct, "sign", at=at, actor="dana")
verdict: Verdict = STARS.check(acct, "accelerate")
reasons: tuple[str, ...] = verdict.reasons
diagnosis: Diagnosis = STARS.diagnose(acct)
brief: str = handover_brief(acct)
lc = STARS.evolve()


@lc.after("sign")
def on_sign(event: HookEvent) -> None:
    print(event.record)


stage: str = acct.stage
n_episodes: int = len(episodes(acct))
