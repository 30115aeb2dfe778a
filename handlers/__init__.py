"""Slack listeners, one module per kind; `register` is the one place that lists them all."""

from __future__ import annotations

from slack_bolt import App

from bot.wiring import Services
from handlers import actions, apply, commands, events, views


def register(app: App, services: Services) -> None:
    commands.register(app, services)
    actions.register(app, services)
    apply.register(app, services)
    views.register(app, services)
    events.register(app, services)
