"""bench/store/record.py: the one record of a measurement is frozen, built by keyword only, and refuses a
value no measurement holds where it is built, naming the field (issue 47)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from bench.store.record import Measurement

GOOD = dict(
    arm="torch:cpu",
    framework="torch",
    device="cpu",
    benchmark="throughput.TrainStep.time_train_step",
    param=1,
    params="torch, cpu, 128",
    key="128",
    round=1,
    value=0.01,
)


def test_a_good_record_builds_and_cannot_be_changed():
    m = Measurement(**GOOD)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.value = 0.02  # type: ignore[misc]


def test_positional_arguments_are_refused():
    with pytest.raises(TypeError):
        Measurement(*GOOD.values())  # type: ignore[misc]


@pytest.mark.parametrize(
    "change, field",
    [
        (dict(value=-0.01), "value"),
        (dict(value=0.0), "value"),
        (dict(value=math.nan), "value"),
        (dict(value=math.inf), "value"),
        (dict(status="fine"), "status"),
        (dict(round=-1), "round"),
        (dict(param=1.5), "param"),
        (dict(number=0), "number"),
        (dict(samples="0.01 0.01"), "samples"),
        (dict(samples=(0.01, -0.01)), "samples"),
        (dict(samples=(0.01, 0.01), after=("torch:cpu",)), "after"),
        (dict(statistic="best"), "statistic"),
        (dict(seed=-1), "seed"),
    ],
    ids=[
        "negative-time",
        "zero-time",
        "nan-ok",
        "inf",
        "status",
        "round",
        "param",
        "number",
        "samples-text",
        "negative-sample",
        "after-per-sample",
        "statistic",
        "seed",
    ],  # fmt: skip
)
def test_a_bad_value_is_refused_where_it_is_built_naming_the_field(change, field):
    with pytest.raises(ValueError, match=rf"\b{field}\b"):
        Measurement(**{**GOOD, **change})


def test_an_unknown_field_is_refused_naming_it():
    with pytest.raises(TypeError, match="seconds"):
        Measurement(**GOOD, seconds=0.01)  # type: ignore[call-arg]


def test_what_is_not_a_measurement_may_hold_no_value():
    Measurement(**{**GOOD, "value": math.nan, "status": "failed", "reason": "worker exited 1"})
    Measurement(**{**GOOD, "value": math.nan, "status": "skipped"})
    Measurement(**{**GOOD, "value": 0.0, "unit": "error rate"})  # an error rate of 0 is a measurement


def test_a_rounds_file_gives_back_the_records_lists(tmp_path):
    """The per-sample fields are tuples in the record and in what the rounds file's one reader gives back."""
    from bench.store import rounds_file
    from bench.store.record import frame_of

    m = Measurement(**{**GOOD, "samples": (0.01, 0.0125), "after": ("-", "jax:cpu"), "gap": (0.5, 0.25)})
    back = rounds_file.load(rounds_file.write(frame_of([m]), tmp_path / "rounds.csv")).iloc[0]
    assert (back.samples, back.after, back.gap, back.bracket) == ((0.01, 0.0125), ("-", "jax:cpu"), (0.5, 0.25), ())
