"""Slack's limits on what the bot sends, and how big a view is as Slack receives it.

From Slack's reference (docs.slack.dev/reference/block-kit, views): a section's text 3,000
characters, a field 2,000, a header 150, an option 75, a confirm dialog's text 300, a block
or action id 255, a button's value 2,000, a view's private_metadata 3,000; 50 blocks in a
message, 100 in a view; and a view of at most 250 kB (`view_too_large` past it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from slack_sdk.models.blocks import Block

SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
HEADER_LIMIT = 150
OPTION_TEXT_LIMIT = 75
CONFIRM_TEXT_LIMIT = 300
CHECKBOX_OPTIONS_LIMIT = 10
MESSAGE_TEXT_LIMIT = 3900
VIEW_BLOCKS_LIMIT = 100
VIEW_BYTES_LIMIT = 250_000
# Views are kept well under the limit: the size is measured as slack_sdk sends it (JSON,
# non-ASCII as \u escapes), and Slack adds the view's own fields to it.
VIEW_BYTES_BUDGET = 200_000
# A revision id longer than this (they are 12 hex digits as Alembic makes them) is named
# by its hash in block ids, button values and private_metadata, which Slack bounds.
REF_LIMIT = 64


def serialized_size(blocks: Iterable[Block]) -> int:
    """How many bytes the blocks take in the JSON body slack_sdk sends."""
    return sum(len(json.dumps(block.to_dict())) + 1 for block in blocks)


def revision_ref(revision: str) -> str:
    """How the card names its revision to Slack: the id, or `#` and its hash when long."""
    if len(revision) <= REF_LIMIT and not revision.startswith("#"):
        return revision
    return "#" + hashlib.sha256(revision.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def revision_of_ref(ref: str, known: Iterable[str]) -> str | None:
    """The revision among `known` that `ref` names, if any."""
    if not ref.startswith("#"):
        return ref
    return next((revision for revision in known if revision_ref(revision) == ref), None)
