"""The STARS diagnosis as one table of rules, read one account at a time or as a DataFrame.

`stars.lifecycle.diagnose_stars` (one `Evidence`) and `stars.frames.assign_stages` (a
whole frame, through narwhals) are both built from `RULES` here, so a new rule, or a
rule moved, is one edit to the table. Each rule names the conditions it needs
(`Rule.when`, all of them), and optionally a group of signals of which at least one must
hold (`Rule.any_of`); its reasons are its own fixed words followed by the words of each
signal of the group that holds. The first rule that matches decides.

A condition is an `Atom`: a name with its test on one `Evidence` and the same test as a
narwhals expression over the evidence columns. An atom's name may be written ``"!name"``
in a rule for its negation.

Examples:
    >>> from stars import Band, Evidence, Policy
    >>> from stars._stage_rules import diagnose
    >>> diagnose(Evidence(band=Band.YELLOW, customer=True), Policy())
    ('seed', ('onboarding is not finished: success metrics are not agreed', 'health is yellow'))
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from itertools import combinations
from typing import TYPE_CHECKING, Any, Final

import attrs

from stars.bands import Band

if TYPE_CHECKING:
    import narwhals as nw

    from stars.lifecycle import Evidence, Policy

__all__ = [
    "ATOMS",
    "RULES",
    "STILL_ONBOARDING",
    "Atom",
    "Columns",
    "Reason",
    "Rule",
    "diagnose",
    "reason_expression",
    "stage_expression",
]


@attrs.frozen(slots=True)
class Columns:
    """The evidence columns as narwhals expressions, for the atoms' frame form.

    ``band`` is a string expression (``"red"``, ``"yellow"``, ``"green"`` or null); a
    number is ``None`` when the frame has no such column; ``flags`` holds every flag of
    `Evidence`, nulls already read as False.
    """

    band: nw.Expr
    slope: nw.Expr | None
    green_streak: nw.Expr | None
    tenure_days: nw.Expr | None
    flags: Mapping[str, nw.Expr]


@attrs.frozen(slots=True)
class Atom:
    """One condition the rules read: on one `Evidence`, and as a frame expression."""

    name: str
    #: The test on one account: a Python expression over ``ev`` (the `Evidence`), ``p``
    #: (the `Policy`) and the bands ``RED`` and ``YELLOW``.
    test: str
    frame: Callable[[Columns, Policy], nw.Expr]


def _lit_false() -> nw.Expr:
    import narwhals as nw

    return nw.lit(False)


def _falling(c: Columns, p: Policy) -> nw.Expr:
    x = c.slope
    return (~x.is_null()) & (x < -p.trend_flat_within) if x is not None else _lit_false()


def _settled(c: Columns, p: Policy) -> nw.Expr:
    import narwhals as nw

    streak = c.green_streak if c.green_streak is not None else nw.lit(0)
    x = c.tenure_days
    long_enough = (~x.is_null()) & (x >= p.min_tenure_days) if x is not None else _lit_false()
    return (streak >= p.green_streak) & long_enough


#: Every condition a rule may name.
ATOMS: Final[Mapping[str, Atom]] = {
    a.name: a
    for a in (
        Atom("churned", "ev.churned", lambda c, p: c.flags["churned"]),
        Atom("customer", "ev.customer", lambda c, p: c.flags["customer"]),
        Atom("red", "ev.band is RED", lambda c, p: c.band == "red"),
        Atom("yellow", "ev.band is YELLOW", lambda c, p: c.band == "yellow"),
        Atom("no_band", "ev.band is None", lambda c, p: c.band.is_null()),
        Atom("critical_risk", "ev.critical_risk", lambda c, p: c.flags["critical_risk"]),
        Atom("falling", "ev.slope is not None and ev.slope < -p.trend_flat_within", _falling),
        Atom(
            "metrics_agreed",
            "ev.success_metrics_agreed",
            lambda c, p: c.flags["success_metrics_agreed"],
        ),
        Atom(
            "settled",
            "ev.green_streak >= p.green_streak and ev.tenure_days is not None"
            " and ev.tenure_days >= p.min_tenure_days",
            _settled,
        ),
        Atom("expansion_open", "ev.expansion_open", lambda c, p: c.flags["expansion_open"]),
    )
}


@attrs.frozen(slots=True)
class Reason:
    """Words a rule gives: ``text`` on a frame, ``detail`` (with figures) for one account.

    In `Rule.any_of`, ``atom`` is the signal the words are about.
    """

    text: str
    atom: str = ""
    detail: Callable[[Evidence, Policy], str] | None = None

    def words(self, ev: Evidence, policy: Policy) -> str:
        """The words for one account (with its figures, where the reason quotes them)."""
        return self.text if self.detail is None else self.detail(ev, policy)


@attrs.frozen(slots=True)
class Rule:
    """Point to ``stage`` when every ``when`` condition holds and, if any, one of ``any_of``."""

    stage: str | None
    when: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()
    any_of: tuple[Reason, ...] = ()


#: The words of the rule that keeps a shaky start in SEED.
STILL_ONBOARDING: Final = "onboarding is not finished: success metrics are not agreed"

_YELLOW = Reason("health is yellow", "yellow")
_FALLING = Reason(
    "health is falling",
    "falling",
    lambda ev, p: f"health is falling ({ev.slope:+.1f} points per 30 days)",
)

#: The STARS diagnosis, in order: the first rule that matches decides.
RULES: Final[tuple[Rule, ...]] = (
    Rule("churn", ("churned",), (Reason("the account has churned; only a win-back leaves churn"),)),
    Rule("prospect", ("!customer",), (Reason("no contract is recorded yet"),)),
    Rule(
        "tact",
        any_of=(
            Reason("health is red", "red"),
            Reason("a critical risk finding is open", "critical_risk"),
        ),
    ),
    # Still onboarding: a shaky start is SEED's problem to solve, not stagnation.
    Rule("seed", ("!metrics_agreed",), (Reason(STILL_ONBOARDING),), any_of=(_YELLOW, _FALLING)),
    Rule("reset", any_of=(_YELLOW, _FALLING)),
    Rule(None, ("no_band",), (Reason("no health reading to judge by"),)),
    Rule(
        "seed",
        ("!metrics_agreed",),
        (Reason("health is green but success metrics are not agreed yet"),),
    ),
    Rule(
        "ascend",
        ("settled", "!expansion_open"),
        (
            Reason(
                "green for enough readings in a row",
                detail=lambda ev, p: f"green for {ev.green_streak} readings in a row",
            ),
            Reason(
                "a customer for long enough",
                detail=lambda ev, p: f"a customer for {ev.tenure_days:.0f} days",
            ),
        ),
    ),
    Rule(
        "accelerate",
        ("expansion_open",),
        (Reason("health is green and an expansion opportunity is open"),),
    ),
    Rule("accelerate", (), (Reason("health is green and success metrics are agreed"),)),
)


def _literal(name: str) -> tuple[Atom, bool]:
    negated = name.startswith("!")
    return ATOMS[name.lstrip("!")], negated


@functools.cache
def _compile() -> Callable[[Evidence, Policy], tuple[str | None, tuple[str, ...]]]:
    """`RULES` written out as one function of plain ``if`` statements (one account is hot).

    Each rule becomes ``if <its conditions>: return <stage>, <reasons>``; a reason that
    quotes figures calls its ``detail``. The source is kept on the function as
    ``__source__`` for anyone who wants to read what runs.
    """
    namespace: dict[str, Any] = {"RED": Band.RED, "YELLOW": Band.YELLOW}

    def words(reason: Reason) -> str:
        if reason.detail is None:
            return repr(reason.text)
        name = f"_detail{len(namespace)}"
        namespace[name] = reason.detail
        return f"{name}(ev, p)"

    def test(name: str) -> str:
        atom, negated = _literal(name)
        return f"not ({atom.test})" if negated else f"({atom.test})"

    lines = ["def diagnose(ev, p):"]
    for rule in RULES:
        conds = [test(name) for name in rule.when]
        if rule.any_of:
            conds.append("(" + " or ".join(test(r.atom) for r in rule.any_of) + ")")
        fixed = "(" + "".join(f"{words(r)}, " for r in rule.reasons) + ")"
        lines.append(f"    if {' and '.join(conds) or 'True'}:")
        if not rule.any_of:
            lines.append(f"        return {rule.stage!r}, {fixed}")
            continue
        lines.append(f"        why = {fixed}")
        for r in rule.any_of:
            lines.append(f"        if {test(r.atom)}:")
            lines.append(f"            why += ({words(r)},)")
        lines.append(f"        return {rule.stage!r}, why")
    lines.append("    raise AssertionError('the last rule matches every account')")
    source = "\n".join(lines) + "\n"
    exec(compile(source, "<stars._stage_rules.RULES>", "exec"), namespace)
    fn = namespace["diagnose"]
    fn.__source__ = source
    return fn  # type: ignore[no-any-return]


def diagnose(ev: Evidence, p: Policy) -> tuple[str | None, tuple[str, ...]]:
    """The first rule of `RULES` that ``ev`` matches: its stage and its reasons.

    The rules are written out as code on the first call, not at ``import stars``.
    """
    return _compile()(ev, p)


def _all(exprs: list[nw.Expr]) -> nw.Expr | None:
    out: nw.Expr | None = None
    for x in exprs:
        out = x if out is None else out & x
    return out


def _frame_atoms(columns: Columns, policy: Policy) -> Callable[[str], nw.Expr]:
    cache: dict[str, nw.Expr] = {}

    def get(name: str) -> nw.Expr:
        if name not in cache:
            atom, neg = _literal(name)
            x = atom.frame(columns, policy)
            cache[name] = ~x if neg else x
        return cache[name]

    return get


def _branches(
    columns: Columns, policy: Policy
) -> list[tuple[nw.Expr | None, Rule, tuple[Reason, ...]]]:
    """Every (condition, rule, signals held) in order; the condition None always holds.

    A rule with a group is split by which of its signals hold, the largest sets first,
    so each branch knows its exact reasons.
    """
    atom = _frame_atoms(columns, policy)
    out: list[tuple[nw.Expr | None, Rule, tuple[Reason, ...]]] = []
    for rule in RULES:
        when = [atom(name) for name in rule.when]
        if not rule.any_of:
            out.append((_all(when), rule, ()))
            continue
        for size in range(len(rule.any_of), 0, -1):
            for held in combinations(rule.any_of, size):
                out.append((_all(when + [atom(r.atom) for r in held]), rule, held))
    return out


def _chain(branches: list[tuple[nw.Expr | None, int]]) -> nw.Expr:
    """``when(c0).then(k0).when(c1)...otherwise(k_last)`` over integer codes."""
    import narwhals as nw

    chain: Any = nw
    for cond, code in branches:
        if cond is None:
            return chain.otherwise(nw.lit(code)) if chain is not nw else nw.lit(code)
        chain = chain.when(cond).then(nw.lit(code))
    return chain  # type: ignore[no-any-return]  # pragma: no cover


def stage_expression(columns: Columns, policy: Policy) -> nw.Expr:
    """The stage `RULES` give each row, as a string expression (null for no stage)."""
    import narwhals as nw

    stages: list[str | None] = []
    branches: list[tuple[nw.Expr | None, int]] = []
    atom = _frame_atoms(columns, policy)
    for rule in RULES:
        if rule.stage not in stages:
            stages.append(rule.stage)
        group = [atom(r.atom) for r in rule.any_of]
        cond = _all([atom(name) for name in rule.when])
        if group:
            some = group[0]
            for x in group[1:]:
                some = some | x
            cond = some if cond is None else cond & some
        branches.append((cond, stages.index(rule.stage)))
    return _chain(branches).replace_strict(list(range(len(stages))), stages, return_dtype=nw.String)


def reason_expression(columns: Columns, policy: Policy) -> nw.Expr:
    """The reasons `RULES` give each row, joined with ``"; "``, without figures."""
    import narwhals as nw

    texts: list[str] = []
    branches: list[tuple[nw.Expr | None, int]] = []
    for cond, rule, held in _branches(columns, policy):
        text = "; ".join(r.text for r in (*rule.reasons, *held))
        if text not in texts:
            texts.append(text)
        branches.append((cond, texts.index(text)))
    # Pick a reason by number, then turn numbers into text once: far cheaper than a
    # chain of text literals on large frames.
    return _chain(branches).replace_strict(list(range(len(texts))), texts, return_dtype=nw.String)
