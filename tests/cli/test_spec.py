"""The fast parser of a CommandSpec: what it takes, and what it leaves to click."""

from __future__ import annotations

import click
from click.testing import CliRunner

from traderctl.cli.spec import CommandSpec, Opt, parse_fast, to_click

SPEC = CommandSpec("pick", "Pick one.", lambda target, **kw: 0, (
    Opt("colour", ("--colour",), choices=("red", "blue")),
    Opt("count", ("--count",), int, 1, minimum=0),
    Opt("loud", ("--loud",), bool, False),
))


def test_values_within_choices_and_bounds_are_parsed() -> None:
    assert parse_fast(SPEC, ["--colour", "red", "--count=0", "--loud"]) == {
        "colour": "red", "count": 0, "loud": True}
    assert parse_fast(SPEC, []) == {"colour": None, "count": 1, "loud": False}


def test_values_outside_them_are_left_to_click() -> None:
    for argv in (["--colour", "green"], ["--count", "-1"], ["--count", "x"], ["--what"]):
        assert parse_fast(SPEC, argv) is None


def test_click_refuses_the_same_values_with_its_message() -> None:
    group = click.Group("t", commands={"pick": to_click(SPEC)})
    for argv, text in ((["--colour", "green"], "'green' is not one of 'red', 'blue'"),
                       (["--count", "-1"], "-1 is not in the range x>=0")):
        result = CliRunner().invoke(group, ["pick", *argv])
        assert result.exit_code == 2 and text in result.output, result.output
