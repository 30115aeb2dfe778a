"""Apply overhead: `/schema apply` end to end against a bare `alembic upgrade` on PostgreSQL.

    python bench/apply_overhead.py [--json]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres), or SCHEMABOT_BENCH_PG.
Two fresh databases at the seed's history. Three pending revisions (each adds a column to
`posts`) are pushed, approved and ticked through signed Slack requests. Then, for each in
turn, the clock runs from the `/schema apply` request to the thread's last reply (gates,
migration in a child process, verification, the document's commit and push). Anchor: the
same three migrations run with `alembic upgrade <rev>` on the other database. Target: the
bot adds under 1 s.
"""

from __future__ import annotations

import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import kit
import psycopg
from psycopg import sql

from bot.demo.project import DEMO_PENDING, MigrationSpec, create_origin
from bot.slack.app import EVENTS_PATH
from bot.slack.cards import APPROVE
from bot.standin import FakeSlack
from bot.standin.signing import (
    block_actions_body,
    button_click,
    checkboxes_change,
    sign,
    slash_command_body,
)

SERVER = os.environ.get("SCHEMABOT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
BASELINE = str(DEMO_PENDING.down_revision)
TARGET = 1.0
REVIEWER, APPLIER = kit.teammates(2)
PENDING = tuple(
    MigrationSpec(
        f"a9910{number:07x}",
        BASELINE if number == 1 else f"a9910{number - 1:07x}",
        f"Add bench column {number} to posts",
        f"add_bench_column_{number}",
        upgrade=f'op.add_column("posts", sa.Column("bench_{number}", sa.Integer))',
        downgrade=f'op.drop_column("posts", "bench_{number}")',
    )
    for number in (1, 2, 3)
)


@contextmanager
def databases(count: int) -> Iterator[list[str]]:
    """`count` new empty databases, as SQLAlchemy URLs; dropped afterwards."""
    names = [f"schemabot_bench_{secrets.token_hex(5)}" for _ in range(count)]
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield [f"{SERVER.replace('postgresql://', 'postgresql+psycopg://')}/{n}" for n in names]
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            for name in names:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def alembic(work: Path, url: str, target: str) -> float:
    """`alembic upgrade target` as a person runs it, from the project; its duration."""
    ini = work / "bench-alembic.ini"
    text = (work / "alembic.ini").read_text(encoding="utf-8")
    ini.write_text(text.replace("sqlite:///app.db", url.replace("%", "%%")), encoding="utf-8")
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "alembic"), "-c", ini.name, "upgrade", target],
        cwd=work,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def post(port: int, body: str) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", EVENTS_PATH, body=body.encode(), headers=sign(kit.SECRET, body))
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"the bot answered {response.status}")


def card_of(fake: FakeSlack, revision: str) -> dict[str, object]:
    title = f"Schema review: {revision}"
    cards = [m for m in fake.messages(kit.CHANNEL) if m.text.startswith(title)]
    assert len(cards) == 1, f"{len(cards)} cards of {revision}"
    return cards[0].as_slack()


def acted(fake: FakeSlack, port: int, body: str) -> None:
    """POST a card interaction and wait until the bot has updated the card."""
    before = len(fake.calls("chat.update"))
    post(port, body)
    kit.wait_for(lambda: len(fake.calls("chat.update")) > before, "the card's update")


def review(fake: FakeSlack, port: int, revision: str) -> None:
    """The reviewer approves the revision and ticks every checklist box on its card."""
    card = card_of(fake, revision)
    click = button_click(APPROVE, message=card, channel_id=kit.CHANNEL, user_id=REVIEWER)
    acted(fake, port, block_actions_body(click))
    card = card_of(fake, revision)
    for block in card["blocks"]:  # type: ignore[attr-defined]
        for element in block.get("elements", []):
            if element.get("type") == "checkboxes":
                values = [option["value"] for option in element["options"]]
                tick = checkboxes_change(
                    element["action_id"],
                    values,
                    message=card,
                    channel_id=kit.CHANNEL,
                    user_id=REVIEWER,
                )
                acted(fake, port, block_actions_body(tick))


def applied(fake: FakeSlack, revision: str) -> bool:
    return any(
        revision in str(call.args.get("text")) and ":rocket:" in str(call.args.get("text"))
        for call in fake.calls("chat.postMessage")
    )


def measure(folder: Path) -> list[kit.Figure]:
    fake = kit.slack(people=2)
    developer = create_origin(folder / "origin.git", folder / "dana", kit.DANA)
    work = Path(str(developer.working_tree_dir))
    bare_seconds: list[float] = []
    bot_seconds: list[float] = []
    with databases(2) as (production, bare):
        for url in (production, bare):
            alembic(work, url, BASELINE)
        for spec in PENDING:
            kit.push_revision(developer, spec, kit.entry_for(spec))
        env = kit.bot_environment(
            fake,
            folder / "origin.git",
            folder / "bot",
            POLL_SECONDS="3600",
            DATABASE_URL=production,
            APPLIERS=APPLIER,
        )
        bot = kit.BotProcess(env, folder)
        try:
            bot.scan()
            for spec in PENDING:
                review(fake, bot.port, spec.revision)
                body = slash_command_body(
                    f"apply {spec.revision}",
                    user_id=APPLIER,
                    channel_id=kit.CHANNEL,
                    response_url=fake.response_url(kit.CHANNEL, APPLIER),
                )
                started = time.perf_counter()
                post(bot.port, body)
                kit.wait_for(partial(applied, fake, spec.revision), "the apply", 120)
                bot_seconds.append(time.perf_counter() - started)
        finally:
            bot.stop()
        for spec in PENDING:
            bare_seconds.append(alembic(work, bare, spec.revision))
    fake.stop()
    developer.close()
    overhead = [mine - theirs for mine, theirs in zip(bot_seconds, bare_seconds, strict=True)]
    added = statistics.median(overhead)
    anchor = f"bare `alembic upgrade` {kit.ms(statistics.median(bare_seconds))}"
    runs = len(PENDING)
    return [
        kit.Figure(
            "apply overhead",
            f"/schema apply end to end, median of {runs}",
            kit.ms(statistics.median(bot_seconds)),
            anchor,
            "-",
        ),
        kit.Figure(
            "apply overhead",
            f"added by the bot, median of {runs} (worst {kit.ms(max(overhead))})",
            kit.ms(added),
            anchor,
            "< 1 s",
            added < TARGET,
        ),
    ]


def main() -> None:
    kit.main(measure, __doc__)


if __name__ == "__main__":
    main()
