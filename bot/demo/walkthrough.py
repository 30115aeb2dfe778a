"""`schemabot demo`: the whole review, played on embedded defaults, shown step by step.

Everything is real but Slack: a git origin holding an Alembic project whose history follows
the team's document, a SQLite "production" database, the bot's SQLite state, and the bot
itself (the same `RunningBot` as `serve`, over HTTP) talking to a local Slack stand-in.
Teammates act through signed HTTP requests, as Slack would send them.
"""

from __future__ import annotations

import http.client
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from git import Actor, Repo
from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from bot.config import Settings
from bot.core.doc_update import add_entry
from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, create_origin, write_migration
from bot.demo.terminal import blocks_text, slack_text
from bot.errors import SchemabotError
from bot.migrations.runner import Checkout, MigrationRunner
from bot.migrations.versions import current_versions
from bot.redact import Redactor
from bot.running import RunningBot
from bot.slack.app import EVENTS_PATH
from bot.slack.cards import APPROVE
from bot.slack.client import slack_client
from bot.standin import BOT_TOKEN, FakeSlack
from bot.standin.signing import (
    block_actions_body,
    button_click,
    checkboxes_change,
    sign,
    slash_command_body,
)
from bot.waiting import wait_for
from bot.wiring import build_services

T = TypeVar("T")
CHANNEL = "C0SCHEMA01"
SECRET = "demo-signing-secret"
MARKER = ".schemabot-demo"
PEOPLE = {
    "U0DANA0001": ("dana", "dana@example.com"),
    "U0RAE00001": ("rae", "rae@example.com"),
    "U0SAM00001": ("sam", "sam@example.com"),
    "U0OLI00001": ("oli", "oli@example.com"),
    "U0ADA00001": ("ada", "ada@example.com"),
}
DANA, RAE, SAM, OLI, ADA = PEOPLE
NAMES = {user: name for user, (name, _) in PEOPLE.items()}


class Demo:
    def __init__(self, root: Path, console: Console) -> None:
        self.root = root
        self.console = console
        self.port = 0

    def run(self) -> None:
        say = self.console.print
        say(Panel.fit("schemabot demo: a schema change from push to production", style="bold"))
        developer = self._sandbox()
        with FakeSlack() as slack:
            for user, (name, email) in PEOPLE.items():
                slack.add_user(user, email, name)
            slack.add_channel(CHANNEL, members=list(PEOPLE), name="schema-reviews")
            settings = self._settings(slack)
            bot = RunningBot(build_services(settings, slack_client(settings)))
            self.port = bot.start(port=0, host="127.0.0.1")
            try:
                self._play(slack, developer, bot)
            finally:
                bot.stop()
                developer.close()
        self._where()

    def _sandbox(self) -> Repo:
        say = self.console.print
        developer = create_origin(
            self.root / "origin.git", self.root / "dana", Actor("Dana Developer", PEOPLE[DANA][1])
        )
        say(f"[bold]1.[/] A git origin with the team's Alembic project: {self.root / 'origin.git'}")
        runner = MigrationRunner(self._production_url(), Redactor(), python=sys.executable)
        result = runner.migrate("upgrade", Checkout(self.root / "dana"), "heads")
        if not result.ok:
            raise SchemabotError(f"could not build the demo's production database: {result.error}")
        versions = ", ".join(sorted(current_versions(self._production_url())))
        say(f"[bold]2.[/] A SQLite 'production' database at the document's history ({versions})")
        return developer

    def _settings(self, slack: FakeSlack) -> Settings:
        return Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.base_url,
            channel=CHANNEL,
            repo_url=str(self.root / "origin.git"),
            database_url=self._production_url(),
            workdir=self.root / "bot",
            approvers=frozenset({RAE, SAM}),
            appliers=frozenset({ADA}),
            required_approvals=2,
            poll_seconds=0.5,
        )

    def _production_url(self) -> str:
        return f"sqlite:///{self.root / 'production.db'}"

    def _play(self, slack: FakeSlack, developer: Repo, bot: RunningBot) -> None:
        say = self.console.print
        say(f"[bold]3.[/] schemabot is serving Slack at http://127.0.0.1:{self.port}{EVENTS_PATH}")
        self._wait(lambda: bot.services.store.get_meta("first_scan_done"), "the first scan")
        say("   Its first scan took the existing revisions as history: no cards for them.")

        work = Path(str(developer.working_tree_dir))
        write_migration(work, DEMO_PENDING)
        doc = work / "SCHEMA_CHANGES.md"
        doc.write_text(add_entry(doc.read_text(encoding="utf-8"), DEMO_PENDING_ENTRY))
        author = Actor("Dana Developer", PEOPLE[DANA][1])
        developer.index.add([DEMO_PENDING.path, "SCHEMA_CHANGES.md"])
        developer.index.commit("Add visibility to posts", author=author, committer=author)
        developer.git.push("origin", "main")
        say(f"[bold]4.[/] Dana pushes revision {DEMO_PENDING.revision} with its document entry.")
        self._wait(lambda: slack.messages(CHANNEL), "the review card")
        self._show_card(slack, "The review card appears in #schema-reviews")

        self._click(slack, APPROVE, RAE)
        say("[bold]5.[/] Rae approves.")
        self._click(slack, APPROVE, OLI)
        refusal = self._wait(lambda: slack.ephemerals(OLI), "Oli's refusal")[-1]
        say(
            "   Oli approves too, but is not an approver. Only Oli sees:",
            Text(refusal.text, style="italic"),
        )
        self._click(slack, APPROVE, SAM)
        say("   Sam approves.")
        self._tick_all(slack, RAE)
        say("   Rae ticks the migration checklist.")
        self._show_card(slack, "The card, updated in place")

        say("[bold]6.[/] Ada types [bold]/schema apply b41f[/]")
        self._command(slack, "apply b41f", ADA)
        self._wait(
            lambda: any("updated" in r.text for r in slack.messages(CHANNEL)[0].replies),
            "the apply",
            timeout=60,
        )
        for reply in slack.messages(CHANNEL)[0].replies:
            say(Panel(Text(slack_text(reply.text, NAMES)), title="thread reply", expand=False))
        versions = ", ".join(sorted(current_versions(self._production_url())))
        say(f"   Production's alembic_version is now: [bold]{versions}[/]")
        self._wait(lambda: "Applied" in slack.messages(CHANNEL)[0].text, "the card's update")
        self._show_card(slack, "The card after the apply")
        with Repo(self.root / "origin.git") as origin:
            head = origin.commit("main")
            diff = origin.git.show("--stat", "--patch", "--format=%h %an: %s", head.hexsha)
        say(f"[bold]7.[/] The status commit on main ({head.hexsha[:12]}):")
        say(Syntax(diff, "diff", word_wrap=True))

    def _where(self) -> None:
        say = self.console.print
        say(
            Panel.fit(
                f"Everything is left in {self.root}:\n"
                f"  origin.git      the team's repository (git log, git show)\n"
                f"  dana/           the developer's clone\n"
                f"  production.db   the 'production' database (sqlite3 production.db .schema)\n"
                f"  bot/state.db    schemabot's state: reviews, verdicts, audit log, runs\n"
                f"  bot/repo/       schemabot's own clone\n"
                "Next: create the Slack app from manifest.yml and run `schemabot serve` (README).",
                title="where to look",
            )
        )

    def _show_card(self, slack: FakeSlack, title: str) -> None:
        card = slack.messages(CHANNEL)[0]
        self.console.print(Panel(Text(blocks_text(card.blocks, NAMES)), title=title, expand=False))

    def _click(self, slack: FakeSlack, action_id: str, user: str) -> None:
        card = slack.messages(CHANNEL)[0].as_slack()
        payload = button_click(action_id, message=card, channel_id=CHANNEL, user_id=user)
        before = len(slack.calls())
        self._post(block_actions_body(payload))
        self._settle(slack, before)

    def _tick_all(self, slack: FakeSlack, user: str) -> None:
        card = slack.messages(CHANNEL)[0]
        for block in card.blocks:
            for element in block.get("elements", []):
                if element.get("type") == "checkboxes":
                    values = [option["value"] for option in element["options"]]
                    payload = checkboxes_change(
                        element["action_id"],
                        values,
                        message=card.as_slack(),
                        channel_id=CHANNEL,
                        user_id=user,
                    )
                    before = len(slack.calls())
                    self._post(block_actions_body(payload))
                    self._settle(slack, before)

    def _command(self, slack: FakeSlack, text: str, user: str) -> None:
        url = slack.response_url(CHANNEL, user)
        self._post(slash_command_body(text, user_id=user, channel_id=CHANNEL, response_url=url))

    def _post(self, body: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("POST", EVENTS_PATH, body=body.encode(), headers=sign(SECRET, body))
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != 200:
            raise SchemabotError(f"the bot answered {response.status} to a Slack request")

    def _settle(self, slack: FakeSlack, before: int) -> None:
        """Wait until the bot's reaction to a request (a card update or a reply) arrived."""
        self._wait(lambda: len(slack.calls()) > before, "the bot's answer")
        time.sleep(0.2)

    def _wait(self, condition: Callable[[], T], what: str, timeout: float = 20) -> T:
        try:
            return wait_for(condition, what, timeout, interval=0.05)
        except TimeoutError:
            raise SchemabotError(f"the demo timed out waiting for {what}") from None


def prepare(folder: Path | None) -> Path:
    """The sandbox folder: new, or a previous demo's (recognised by its marker) emptied."""
    if folder is None:
        return Path(tempfile.mkdtemp(prefix="schemabot-demo-"))
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise SchemabotError(
                f"{folder} is not empty and is not a previous demo: pick another --dir"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(json.dumps({"created": time.time()}))
    return folder.resolve()


def run_demo(folder: Path | None, console: Console | None = None) -> Path:
    root = prepare(folder)
    Demo(root, console or Console()).run()
    return root
