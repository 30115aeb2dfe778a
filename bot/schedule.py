"""When the nightly drift check runs (SCHEMABOT_DRIFT_CHECK): an interval or a cron line.

Accepted forms: an interval, a whole number and a unit (`90s`, `30m`, `6h`, `1d`, also
written `every 6h`); a five-field cron expression in UTC (`0 3 * * *`: every day at 03:00),
read by cronsim; `@hourly` and `@daily` for the crontab shorthands; `off` for none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cronsim import CronSim, CronSimError

INTERVAL = re.compile(r"^(?:every\s+)?(?P<count>\d+)\s*(?P<unit>[smhd])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
SHORTHANDS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *"}
SHORTEST = timedelta(minutes=1)


@dataclass(frozen=True)
class Schedule:
    """Either `every` (an interval) or `cron` (a five-field expression, UTC)."""

    text: str
    every: timedelta | None = None
    cron: str | None = None

    def next_after(self, moment: datetime) -> datetime:
        if self.every is not None:
            return moment + self.every
        assert self.cron is not None
        return next(CronSim(self.cron, moment.replace(second=0, microsecond=0)))

    def due(self, last: datetime | None, started: datetime, now: datetime) -> bool:
        """Whether a run is due at `now`: the first interval runs at once; a cron line
        first fires at its first time after `started`; after a run, at the next one."""
        if last is None:
            return self.every is not None or now >= self.next_after(started)
        return now >= self.next_after(last)

    def __str__(self) -> str:
        return self.text


def parse_schedule(text: str) -> Schedule | None:
    """The schedule `text` describes, None for `off`; ValueError saying what is accepted."""
    value = " ".join(text.strip().lower().split())
    if value in {"off", "none", "never"}:
        return None
    interval = INTERVAL.match(value)
    if interval is not None:
        every = timedelta(**{UNITS[interval["unit"]]: int(interval["count"])})
        if every < SHORTEST:
            raise ValueError(f"an interval of at least a minute, got {text!r}")
        return Schedule(value, every=every)
    cron = SHORTHANDS.get(value, value)
    try:
        CronSim(cron, datetime(2000, 1, 1))
    except CronSimError as exc:
        raise ValueError(
            f"an interval (30m, 6h, 1d), a five-field cron line (0 3 * * *), @hourly, "
            f"@daily or off; {text!r} is not one ({exc})"
        ) from None
    return Schedule(value, cron=cron)
