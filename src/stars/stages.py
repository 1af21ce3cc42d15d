"""The seven STARS stages, their kinds, the three cycles, and each stage's profile.

The stage names adapt the STARS model of organisational situations (start-up,
turnaround, accelerated growth, realignment, sustaining success) to one customer
relationship, with a stage before the relationship begins and one after it ends.

Examples:
    >>> from stars import Stage
    >>> Stage.SEED.value
    'seed'
    >>> Stage.SEED.profile.situation
    'Start-up'
    >>> Stage.TACT.profile.acronym
    'Taking Action to Correct Trajectory'
"""

from __future__ import annotations

import enum
import functools

import attrs

from stars._shown import fold as _fold
from stars._shown import near as _near
from stars.errors import InvalidValue, UnknownName

__all__ = ["PROFILES", "Cycle", "Stage", "StageKind", "StageProfile", "stage_name"]


class Cycle(enum.StrEnum):
    """The kind of movement a transition belongs to.

    Examples:
        >>> from stars import Cycle
        >>> [c.value for c in Cycle]
        ['growth', 'recovery', 'crisis']
    """

    GROWTH = "growth"
    RECOVERY = "recovery"
    CRISIS = "crisis"


class StageKind(enum.StrEnum):
    """What a stage means for cycle accounting.

    ``BEFORE`` stages come before the relationship (a prospect), ``GROWTH`` stages are
    healthy customer stages, ``CRISIS`` stages are stages of trouble, and ``LOST`` stages
    mean the customer has gone.

    Examples:
        >>> from stars import Stage
        >>> Stage.RESET.kind
        <StageKind.CRISIS: 'crisis'>
    """

    BEFORE = "before"
    GROWTH = "growth"
    CRISIS = "crisis"
    LOST = "lost"


@attrs.frozen(slots=True)
class StageProfile:
    """How an account in a stage looks, and how to show up for it.

    Attributes:
        situation: The STARS business situation the stage corresponds to.
        acronym: What the stage's name stands for, where the model gives one.
        posture: The roles the account team should take.
        characteristics: What an account in this stage typically looks like.
        key_actions: What the team should be doing now.

    Examples:
        >>> from stars import Stage
        >>> Stage.ASCEND.profile.posture
        ('trusted advisor', 'partner')
    """

    situation: str
    acronym: str | None
    posture: tuple[str, ...]
    characteristics: str
    key_actions: tuple[str, ...]


PROFILES: dict[str, StageProfile] = {
    "prospect": StageProfile(
        situation="Before engagement",
        acronym=None,
        posture=("qualifier",),
        characteristics="Not a customer yet: no contract, no usage, no shared history.",
        key_actions=(
            "Qualify the opportunity and the buyer's real problem.",
            "Agree what a successful first year would look like before signing.",
            "Plan the hand-off so the customer never has to explain themselves twice.",
        ),
    ),
    "seed": StageProfile(
        situation="Start-up",
        acronym="Starting Early Engagement and Development",
        posture=("builder", "consultant"),
        characteristics=(
            "A young relationship: little shared history, working routines still undefined,"
            " a lot of upside."
        ),
        key_actions=(
            "Run a thorough discovery of the customer's goals and pains.",
            "Agree measurable success criteria and what each side expects of the other.",
            "Fit the solution to what they need now and what they will need next.",
            "Earn trust early by being open and quick to respond.",
        ),
    ),
    "accelerate": StageProfile(
        situation="Accelerated Growth",
        acronym=None,
        posture=("innovator", "enabler"),
        characteristics=(
            "Engagement and satisfaction are climbing and there is clear room to expand."
        ),
        key_actions=(
            "Offer adjacent products and services that serve the customer's goals.",
            "Widen the relationship to more stakeholders and functions.",
            "Bring ideas to the customer before they ask for them.",
            "Measure the return they are getting and celebrate each win with them.",
        ),
    ),
    "ascend": StageProfile(
        situation="Sustaining Success",
        acronym="Accelerating Success for Customer Expansion and New Demand",
        posture=("trusted advisor", "partner"),
        characteristics="A long, steady relationship with regular engagement and deep trust.",
        key_actions=(
            "Watch for shifts in the customer's market and goals and adapt early.",
            "Give insight beyond the contract so competitors have no opening.",
            "Show appreciation with tailored service, benefits or invitations.",
            "Invite them to speak for you: references, case studies, referrals.",
        ),
    ),
    "reset": StageProfile(
        situation="Realignment",
        acronym="Realigning Engagement Strategy and Execution before Turnaround",
        posture=("strategist", "revitalizer"),
        characteristics=(
            "Stable on the surface, but momentum has stalled and engagement is slipping."
        ),
        key_actions=(
            "Go back to the customer's business goals and look for new problems to solve.",
            "Renew interest with capabilities or approaches they have not used yet.",
            "Use peer results and benchmarks to make the case for fresh focus.",
            "Reach stakeholders who are new or have gone quiet.",
        ),
    ),
    "tact": StageProfile(
        situation="Turnaround",
        acronym="Taking Action to Correct Trajectory",
        posture=("problem-solver", "restorer of trust"),
        characteristics="Unhappy, pulling away, and in real danger of leaving.",
        key_actions=(
            "Find the root causes from data and from direct conversations.",
            "Deliver fast fixes for the most painful problems.",
            "Be candid about what will be fixed, by when, and how you will follow up.",
            "Agree a renewed plan with the customer so the value comes back.",
        ),
    ),
    "churn": StageProfile(
        situation="Failed turnaround",
        acronym=None,
        posture=("alumni relations",),
        characteristics="The customer has left; the relationship may still be won back later.",
        key_actions=(
            "Record why the account was lost, in the customer's words where possible.",
            "Leave on good terms and keep a light line of contact.",
            "Feed the lessons into the playbook for accounts at risk.",
        ),
    ),
}


class Stage(enum.StrEnum):
    """The stages of the default STARS lifecycle.

    Values are lower-case strings, so a stage compares equal to its name and
    serializes to JSON as is.

    Examples:
        >>> from stars import Stage
        >>> Stage("ascend") is Stage.ASCEND
        True
        >>> Stage.ASCEND == "ascend"
        True
    """

    PROSPECT = "prospect"
    SEED = "seed"
    ACCELERATE = "accelerate"
    ASCEND = "ascend"
    RESET = "reset"
    TACT = "tact"
    CHURN = "churn"

    @classmethod
    def _missing_(cls, value: object) -> Stage | None:
        # Case, spacing and the seed's own situation names ("Turnaround") are forgiven.
        return _ALIASES.get(_fold(value)) if isinstance(value, str) else None

    @classmethod
    def parse(cls, value: object, field: str = "stage") -> Stage:
        """Read a stage name as people write it.

        Case, surrounding and inner spacing, hyphens and underscores do not matter,
        and each stage's situation from the STARS model is an alias
        (``"Turnaround"`` is `TACT`, ``"Sustaining success"`` is `ASCEND`).

        Args:
            value: A `Stage` or a name.
            field: The field to name in an error.

        Raises:
            UnknownName: If the name is no stage, with a "did you mean" for a near miss.

        Examples:
            >>> from stars import Stage
            >>> Stage.parse(" ASCEND "), Stage.parse("Turnaround")
            (<Stage.ASCEND: 'ascend'>, <Stage.TACT: 'tact'>)
            >>> Stage.parse("accelarate")
            Traceback (most recent call last):
            ...
            stars.errors.UnknownName: unknown stage 'accelarate'; did you mean 'accelerate'? ...
        """
        if isinstance(value, Stage):
            return value
        if isinstance(value, str):
            found = _ALIASES.get(_fold(value))
            if found is not None:
                return found
            raise UnknownName(field, value, [s.value for s in Stage], _suggest(value))
        raise InvalidValue(field, value, "a stage name")

    @property
    def profile(self) -> StageProfile:
        """The stage's profile: situation, posture, characteristics, key actions.

        Examples:
            >>> from stars import Stage
            >>> Stage.RESET.profile.situation
            'Realignment'
        """
        return PROFILES[self.value]

    @property
    def kind(self) -> StageKind:
        """Whether the stage is before, growth, crisis or lost.

        Examples:
            >>> from stars import Stage
            >>> Stage.ACCELERATE.kind.value
            'growth'
        """
        return _KINDS[self]


_KINDS = {
    Stage.PROSPECT: StageKind.BEFORE,
    Stage.SEED: StageKind.GROWTH,
    Stage.ACCELERATE: StageKind.GROWTH,
    Stage.ASCEND: StageKind.GROWTH,
    Stage.RESET: StageKind.CRISIS,
    Stage.TACT: StageKind.CRISIS,
    Stage.CHURN: StageKind.LOST,
}


_ALIASES: dict[str, Stage] = {
    **{_fold(s.value): s for s in Stage},
    **{_fold(PROFILES[s.value].situation): s for s in Stage},
    "startup": Stage.SEED,
    "churned": Stage.CHURN,
}


def _suggest(name: str) -> str | None:
    near = _near(name, list(_ALIASES))
    return None if near is None else _ALIASES[str(near)].value


@functools.lru_cache(maxsize=1024)
def stage_name(name: str) -> str:
    """The name an account stores for a stage it is given.

    A name that is a STARS stage as people write it (see `Stage.parse`) becomes
    that stage's name; a near miss of one (a typo) is refused with a "did you
    mean"; any other non-empty name is kept as it is, as a stage of a custom
    `Lifecycle`, which checks it when the account is used.

    Args:
        name: The stage name given.

    Raises:
        UnknownName: For a near miss of a STARS stage.
        InvalidValue: For an empty name or a non-string.

    Examples:
        >>> from stars.stages import stage_name
        >>> stage_name("Ascend "), stage_name("Accelerated growth"), stage_name("gold")
        ('ascend', 'accelerate', 'gold')
        >>> stage_name("ascnd")
        Traceback (most recent call last):
        ...
        stars.errors.UnknownName: unknown stage 'ascnd'; did you mean 'ascend'? ...
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidValue("stage", name, "a non-empty string")
    found = _ALIASES.get(_fold(name))
    if found is not None:
        return found.value
    near = _suggest(name)
    if near is not None:
        raise UnknownName("stage", name, [s.value for s in Stage], near)
    return name
