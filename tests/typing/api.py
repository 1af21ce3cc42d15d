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

# health scoring
from stars.depth import DepthEvidence, TwoSidedDepth  # noqa: E402
from stars.depth import assess as assess_depth  # noqa: E402
from stars.health import (  # noqa: E402
    Direction,
    HealthScore,
    Linear,
    Measure,
    Scorecard,
    default_scorecard,
    trend,
)
from stars.maturity import assess as assess_maturity  # noqa: E402
from stars.maturity import default_questionnaire  # noqa: E402

card: Scorecard = Scorecard(
    [Measure("adoption", 1.0, Direction.HIGHER_IS_BETTER, Linear(0.0, 1.0))]
)
score: HealthScore = card.score({"adoption": 0.5})
explained: str = default_scorecard().score({"adoption": 0.7}).explain()
slope: float | None = trend(acct.snapshots).slope

# depth and maturity
depth_name: str = assess_depth(DepthEvidence()).depth.value
two: type[TwoSidedDepth] = TwoSidedDepth
n_indicators: int = len(default_questionnaire().indicators)
_ = assess_maturity

# issue 17: owners, stage names, standing facts, triage by value, weekly notes without a plan
from stars import OwnerChange, Stage, reassign  # noqa: E402
from stars.depth import DepthGapAdvice, gap_advice  # noqa: E402
from stars.recovery import Triage, TriageFactor, triage, weekly_update  # noqa: E402

handed: Account = Account("typed", owner="dana")
change: OwnerChange = reassign(handed, "lee", at=datetime(2025, 3, 1, tzinfo=UTC), by="mia")
previous: str | None = change.previous
parsed: Stage = Stage.parse("Turnaround")
known: Snapshot | None = handed.known()
decision: Triage = triage(handed, 0.8, expected_value=100_000.0, cost_to_serve=20_000.0)
factor: TriageFactor | None = decision.decided_by
note: str = weekly_update(
    week=datetime(2025, 3, 3, tzinfo=UTC), account_name="Typed", band="yellow", done=["call"]
)
advice: DepthGapAdvice | None = gap_advice("basic", "collaborative")
