"""Events: the App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.core.status_report import needs
from bot.slack.home import HomeItem, home_view
from bot.wiring import Services


def register(app: App, services: Services) -> None:
    def app_home_opened_callback(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        publisher = services.publisher
        items = [
            HomeItem(
                snap,
                tuple(needs(snap)),
                publisher.permalink(snap.revision) if publisher is not None else None,
            )
            for snap in services.pending()
        ]
        # Slack sends the person's Home view along once one was published for them.
        first_open = event.get("view") is None
        view = home_view(items, services.settings.channel, first_open=first_open)
        client.views_publish(user_id=event["user"], view=view)

    app.event("app_home_opened")(app_home_opened_callback)
