"""A local stand-in for Slack: the Web API over real HTTP, and what Slack sends an app.

It checks what Slack checks (tokens, scopes, required arguments, Block Kit limits), so a
card Slack would reject is rejected here too. `schemabot demo` runs the real bot against
it, and the tests use it; it never reaches the network.
"""

from bot.standin.slack_api import FakeSlack
from bot.standin.workspace import APP_TOKEN, BOT_TOKEN

__all__ = ["APP_TOKEN", "BOT_TOKEN", "FakeSlack"]
