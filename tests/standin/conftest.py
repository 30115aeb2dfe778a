"""A Web API stand-in with two users and the review channel, and a client on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.standin.slack_api import FakeSlack
from bot.standin.workspace import BOT_TOKEN
from tests.support.standin_kit import ADA, BOB, REVIEW


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_user(ADA, "ada@example.com", "ada", "Ada Lovelace")
        fake.add_user(BOB, "bob@example.com", "bob")
        fake.add_channel(REVIEW, members=[ADA], name="schema-review")
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=fake.base_url)
