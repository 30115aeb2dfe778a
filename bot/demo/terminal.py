"""Block Kit as terminal text, so the demo shows the card people would see in Slack."""

from __future__ import annotations

import re
from typing import Any

EMOJI = {
    "hourglass_flowing_sand": "⏳",
    "raised_hand": "✋",
    "white_check_mark": "✅",
    "gear": "⚙️",
    "rocket": "🚀",
    "x": "❌",
    "rewind": "⏪",
    "wastebasket": "🗑️",
    "red_circle": "🔴",
    "warning": "⚠️",
    "information_source": "(i)",
    "rotating_light": "🚨",
    "recycle": "♻️",
    "white_large_square": "⬜",
    "floppy_disk": "💾",
}


def slack_text(text: str, names: dict[str, str]) -> str:
    """mrkdwn to plain text: emoji codes, user mentions, links, bold, entities."""
    text = re.sub(r":([a-z0-9_+-]+):", lambda m: EMOJI.get(m[1], m[0]), text)
    text = re.sub(r"<@(\w+)>", lambda m: "@" + names.get(m[1], m[1]), text)
    text = re.sub(r"<([^|>]+)\|([^>]+)>", r"\2", text)
    text = re.sub(r"\*([^*\n]+)\*", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def blocks_text(blocks: list[dict[str, Any]], names: dict[str, str]) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(block["text"]["text"].upper())
        elif kind == "section":
            if block.get("text"):
                lines.append(slack_text(block["text"]["text"], names))
            for field in block.get("fields", []):
                lines.append("  " + slack_text(field["text"], names).replace("\n", ": ", 1))
        elif kind == "context":
            lines += [slack_text(e.get("text", ""), names) for e in block.get("elements", [])]
        elif kind == "divider":
            lines.append("─" * 60)
        elif kind == "actions":
            lines += _actions(block)
    return "\n".join(lines)


def _actions(block: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    buttons = [e["text"]["text"] for e in block["elements"] if e.get("type") == "button"]
    for element in block["elements"]:
        if element.get("type") == "checkboxes":
            chosen = {o["value"] for o in element.get("initial_options", [])}
            for option in element["options"]:
                mark = "[x]" if option["value"] in chosen else "[ ]"
                lines.append(f"  {mark} {option['text']['text']}")
    if buttons:
        lines.append("  " + "  ".join(f"[ {text} ]" for text in buttons))
    return lines
