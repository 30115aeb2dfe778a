"""Runs one apply in its own process, so a test can SIGKILL the bot mid-way.

python -m tests.support.crash_apply <settings.json> <revision> <user>

With `slack_api_url` (and `slack_bot_token`, `channel`) in the settings, the apply reports
to Slack as the bot does: the card and its thread. Otherwise it prints its reports.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.apply.applier import Applier
from bot.config import Settings
from bot.slack.client import slack_client
from bot.wiring import build_services


class PrintingNotifier:
    def card_changed(self, revision: str) -> None:
        print(f"card {revision}", flush=True)

    def progress(self, revision: str, text: str) -> None:
        print(f"progress {text}", flush=True)


def main() -> None:
    raw = json.loads(Path(sys.argv[1]).read_text())
    slack_keys = ("slack_bot_token", "slack_api_url", "channel")
    slack = {key: raw[key] for key in slack_keys} if raw.get("slack_bot_token") else {}
    settings = Settings(
        repo_url=raw["repo_url"],
        workdir=Path(raw["workdir"]),
        database_url=raw["database_url"],
        appliers=frozenset(raw["appliers"]),
        **slack,
    )
    if slack:
        services = build_services(settings, slack_client(settings))
        assert services.applier is not None
        applier = services.applier
    else:
        services = build_services(settings)
        applier = Applier(services.apply_parts, PrintingNotifier())
    run = applier.execute(applier.request(sys.argv[2], sys.argv[3]))
    print(f"finished {run.state}", flush=True)


if __name__ == "__main__":
    main()
