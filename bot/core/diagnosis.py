"""One line of `schemabot doctor`'s report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, whether it passed, what to do if not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """One line, whatever the detail holds (an error's traceback, say)."""
        detail = " ".join(self.detail.split())
        if self.ok:
            return f"ok    {self.name}: {detail}"
        fix = f" -> {self.fix}" if self.fix else ""
        return f"FAIL  {self.name}: {detail}{fix}"
