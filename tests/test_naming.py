"""The one way to name things: checked choices with a did-you-mean, and registries whose missing keys say so."""
from __future__ import annotations

from typing import Literal

import pytest

from gtalign.errors import GtalignError
from gtalign.evaluate.registry import PROTOCOLS
from gtalign.losses.registry import _LOSSES
from gtalign.models.trunks import TRUNKS
from gtalign.ops.dtw import BACKENDS
from gtalign.registry import Registry, check_choice, choices


def test_choices_come_from_a_literal_and_near_misses_are_named():
    Colour = Literal["red", "green"]
    assert choices(Colour) == ("red", "green")
    assert check_choice("colour", "red", choices(Colour)) == "red"
    with pytest.raises(GtalignError, match=r"colour must be one of \['red', 'green'\], got 'gren' \(did you mean "
                                           r"'green'\?\)"):
        check_choice("colour", "gren", choices(Colour))
    with pytest.raises(GtalignError, match=r"got 3$"):
        check_choice("colour", 3, choices(Colour))


def test_a_registry_refuses_a_second_item_under_one_name():
    things = Registry("thing")
    things.register("a", 1)

    @things.register("b")
    def b():
        return 2

    assert things.names() == ["a", "b"] and things["b"] is b
    things.register("a", 1)  # the same item again is fine
    with pytest.raises(GtalignError, match="thing name 'a' is already registered"):
        things.register("a", 2)


@pytest.mark.parametrize("registry", [_LOSSES, TRUNKS, PROTOCOLS, BACKENDS], ids=lambda r: r.kind)
def test_every_registry_names_its_entries_on_a_miss(registry):
    first = registry.names()[0]
    with pytest.raises(GtalignError, match=rf"{registry.kind} must be one of .*, got '{first}x' \(did you mean "
                                           rf"'{first}'\?\)"):
        registry[first + "x"]
