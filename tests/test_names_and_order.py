"""Stage names as people write them, and one ordering rule for every ordered enum (issue 17)."""

from __future__ import annotations

import enum
import importlib
import pkgutil
from datetime import UTC

import pytest

import stars
from stars import STARS, Account, Lifecycle, Stage, StageDef, TransitionDef
from stars._ordered import OrderedStrEnum
from stars.errors import InvalidDefinition, UnknownName


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("ASCEND", "ascend"),
        ("Ascend ", "ascend"),
        ("  accelerate", "accelerate"),
        ("Turnaround", "tact"),
        ("sustaining-success", "ascend"),
        ("Start-up", "seed"),
        ("startup", "seed"),
        ("Realignment", "reset"),
    ],
)
def test_account_reads_stage_names_as_people_write_them(given: str, stored: str) -> None:
    account = Account("acme", stage=given)
    assert account.stage == stored
    assert STARS.diagnose(account).current == stored  # no later failure


def test_a_typo_is_refused_at_construction_with_did_you_mean() -> None:
    with pytest.raises(UnknownName) as caught:
        Account("acme", stage="accelarate")
    assert "did you mean 'accelerate'?" in str(caught.value)
    assert caught.value.suggestion == "accelerate"


def test_stage_parse_refuses_what_is_no_stage() -> None:
    with pytest.raises(UnknownName, match="unknown stage 'gold'; known: 'accelerate'"):
        Stage.parse("gold")
    assert Stage(" TACT ") is Stage.TACT  # the enum itself forgives case and spacing


def test_custom_lifecycle_names_are_kept_and_clashes_refused_early() -> None:
    assert Account("acme", stage="Gold").stage == "Gold"
    stages = [StageDef("Seed", "before"), StageDef("live", "growth")]
    with pytest.raises(InvalidDefinition, match="'Seed' would be stored as 'seed'"):
        Lifecycle(stages, [TransitionDef("go", "Seed", "live", "growth")], initial="Seed")
    with pytest.raises(InvalidDefinition, match="'sed' would be read as a typo of 'seed'"):
        Lifecycle(
            [StageDef("sed", "before"), StageDef("live", "growth")],
            [TransitionDef("go", "sed", "live", "growth")],
            initial="sed",
        )


def test_history_records_store_stage_names_too() -> None:
    from datetime import datetime

    from stars import Cycle, TransitionRecord

    at = datetime(2025, 1, 1, tzinfo=UTC)
    record = TransitionRecord("sign", "Prospect", "SEED", Cycle.GROWTH, at)
    assert (record.source, record.dest) == ("prospect", "seed")
    assert Account("acme", stage="seed", history=[record]).stage == "seed"


def _ordered_enums() -> list[type[enum.Enum]]:
    for info in pkgutil.walk_packages(stars.__path__, "stars."):
        if info.name != "stars.__main__":
            importlib.import_module(info.name)
    found: list[type[enum.Enum]] = []
    todo: list[type] = [enum.Enum]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("stars") and issubclass(cls, enum.Enum) and list(cls):
            found.append(cls)
    return found


def test_every_enum_that_orders_uses_the_one_base() -> None:
    ordered = [c for c in _ordered_enums() if "__lt__" in vars(c) or issubclass(c, OrderedStrEnum)]
    assert {c.__name__ for c in ordered} >= {"Band", "Severity", "Depth", "Level", "Phase"}
    for cls in ordered:
        assert issubclass(cls, OrderedStrEnum), cls
        assert "__lt__" not in vars(cls), f"{cls.__name__} defines its own order"


@pytest.mark.parametrize(
    "cls", [c for c in _ordered_enums() if issubclass(c, OrderedStrEnum)], ids=lambda c: c.__name__
)
def test_every_ordered_enum_compares_by_declaration_with_members_and_values(
    cls: type[OrderedStrEnum],
) -> None:
    members = list(cls)
    assert [m.rank for m in members] == sorted({m.rank for m in members})  # rises with order
    for i, a in enumerate(members):
        for j, b in enumerate(members):
            assert (a < b, a <= b, a > b, a >= b) == (i < j, i <= j, i > j, i >= j)
            assert (a < b.value, a > b.value) == (i < j, i > j)
            assert (a.value < b) == (i < j)  # reflected from the plain value
    with pytest.raises(UnknownName):
        members[0] < "no such member"  # noqa: B015
