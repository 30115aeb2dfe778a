"""Events: the App Home tab."""

from __future__ import annotations

from logging import Logger
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.status_report import needs
from bot.slack.home import HomeItem, home_view
from bot.wiring import Services


def register(app: App, services: Services) -> None:
    def app_home_opened_callback(event: dict[str, Any], client: WebClient, logger: Logger) -> None:
        if event.get("tab", "home") != "home":
            return
        items: list[HomeItem] = []
        for snap in services.pending():
            card = services.store.get_card(snap.revision)
            link = None
            if card is not None:
                try:
                    link = str(
                        client.chat_getPermalink(channel=card.channel, message_ts=card.ts)[
                            "permalink"
                        ]
                    )
                except SlackApiError as exc:
                    logger.warning(
                        "no permalink for %s: %s", snap.revision, exc.response.get("error")
                    )
            items.append(HomeItem(snap, tuple(needs(snap)), link))
        client.views_publish(user_id=event["user"], view=home_view(items))

    app.event("app_home_opened")(app_home_opened_callback)
