"""When the scheduled drift check is due: intervals run at once and then every interval; a
cron line first fires at its first time after the start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.schedule import parse_schedule

START = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def test_an_interval_runs_at_once_then_every_interval() -> None:
    schedule = parse_schedule("every 6h")
    assert schedule is not None and schedule.every == timedelta(hours=6)

    assert schedule.due(None, START, START)
    assert not schedule.due(START, START, START + timedelta(hours=5, minutes=59))
    assert schedule.due(START, START, START + timedelta(hours=6))


def test_a_cron_line_fires_at_its_times_in_utc() -> None:
    schedule = parse_schedule("0 3 * * *")
    assert schedule is not None

    assert not schedule.due(None, START, START + timedelta(hours=17))
    assert schedule.due(None, START, datetime(2025, 3, 15, 3, 0, tzinfo=UTC))
    ran = datetime(2025, 3, 15, 3, 0, 5, tzinfo=UTC)
    assert not schedule.due(ran, START, datetime(2025, 3, 15, 23, 0, tzinfo=UTC))
    assert schedule.due(ran, START, datetime(2025, 3, 16, 3, 0, tzinfo=UTC))
    assert parse_schedule("@daily") == parse_schedule("@daily")


@pytest.mark.parametrize("text", ["nightly", "30x", "10s", "61 * * * *"])
def test_anything_else_is_refused_saying_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match=r"interval|at least a minute"):
        parse_schedule(text)
