"""Properties of stage-name reading (issue 17, item 6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stars import Account, Stage
from stars._ordered import OrderedStrEnum
from stars.errors import UnknownName

stages = st.sampled_from(list(Stage))


@st.composite
def written(draw: st.DrawFn, stage: Stage) -> str:
    """The stage's name in any case, with any surrounding spaces."""
    chars = [draw(st.sampled_from([c.lower(), c.upper()])) for c in stage.value]
    pad = st.text(" \t", max_size=3)
    return draw(pad) + "".join(chars) + draw(pad)


@given(st.data(), stages)
def test_any_case_and_spacing_reads_as_the_stage(data: st.DataObject, stage: Stage) -> None:
    assert Account("a", stage=data.draw(written(stage))).stage == stage.value


@given(stages, st.data())
def test_a_one_letter_slip_is_refused_and_named(stage: Stage, data: st.DataObject) -> None:
    name = stage.value
    i = data.draw(st.integers(0, len(name) - 1))
    slip = data.draw(
        st.sampled_from(
            [name[:i] + name[i + 1 :]]  # a letter dropped
            + ([name[:i] + name[i + 1] + name[i] + name[i + 2 :]] if i + 1 < len(name) else [])
        )
    )
    if slip == name:
        return  # swapping two equal letters changes nothing
    with pytest.raises(UnknownName, match=f"did you mean {stage.value!r}[?]") as caught:
        Account("a", stage=slip)
    assert caught.value.suggestion == stage.value


def _ordered_enums() -> list[type[OrderedStrEnum]]:
    import importlib
    import pkgutil

    import stars

    for info in pkgutil.walk_packages(stars.__path__, "stars."):
        if info.name != "stars.__main__":
            importlib.import_module(info.name)
    found, todo = [], list(OrderedStrEnum.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if list(cls):
            found.append(cls)
    return found


ORDERED = _ordered_enums()


@given(
    st.sampled_from(ORDERED).flatmap(
        lambda c: st.tuples(
            st.sampled_from(list(c)), st.sampled_from(list(c)), st.booleans(), st.booleans()
        )
    )
)
def test_every_ordered_enum_orders_members_and_plain_values_alike(
    pair: tuple[OrderedStrEnum, OrderedStrEnum, bool, bool],
) -> None:
    a, b, a_plain, b_plain = pair
    order = list(type(a))
    i, j = order.index(a), order.index(b)
    left: object = a.value if a_plain and not b_plain else a
    right: object = b.value if b_plain else b
    assert (left < right, left <= right, left > right, left >= right) == (  # type: ignore[operator]
        i < j,
        i <= j,
        i > j,
        i >= j,
    )
