"""The bytes an approval covers: a revision file and the migration environment around it.

Alembic runs more than the revision file: `env.py`, the ini it reads, the template, and the
application modules `env.py` imports. An approval is bound to the git blob of each of them,
so a change to any one after approval makes it stale, and an apply runs exactly those bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.core.text import Code, Text


@dataclass(frozen=True)
class Bundle:
    """Repository paths and the git blob of each, as reviewed.

    `revision` is the path of the revision file itself; the other files are its migration
    environment. `problems` say what kept the environment from being read whole (a missing
    env.py, too many files), `links` which expected files are symbolic links: an apply needs
    a bundle with neither.
    """

    revision: str
    files: Mapping[str, str]
    problems: tuple[str, ...] = ()
    commit: str | None = None
    """The commit it was read at (not part of what is compared: the same bytes at another
    commit are the same bundle)."""
    links: tuple[str, ...] = ()
    """Paths that are symbolic links where a file was expected (never followed)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", MappingProxyType(dict(sorted(self.files.items()))))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bundle) and (
            (self.revision, dict(self.files), self.problems, self.links)
            == (other.revision, dict(other.files), other.problems, other.links)
        )

    def __hash__(self) -> int:
        return hash((self.revision, tuple(self.files.items()), self.problems, self.links))

    @property
    def digest(self) -> str:
        """One id for these bytes: what a preview's SQL is kept under."""
        files = json.dumps([sorted(self.files.items()), self.links], sort_keys=True)
        return hashlib.sha256(files.encode()).hexdigest()

    @property
    def complete(self) -> bool:
        """Read whole: no problem, no link."""
        return not self.problems and not self.links

    def incomplete(self, most: int | None = None) -> Text:
        """Why it is not read whole (`most` reasons at the most): its problems, its links."""
        links = (Text(Code(path), " is a symbolic link") for path in self.links)
        reasons = [*(Text(problem) for problem in self.problems), *links]
        return Text.join("; ", reasons[:most])

    @property
    def revision_blob(self) -> str:
        return self.files[self.revision]

    @property
    def environment(self) -> Mapping[str, str]:
        """Every file but the revision's."""
        return {path: blob for path, blob in self.files.items() if path != self.revision}

    def changed_since(self, earlier: Bundle | None) -> tuple[str, ...]:
        """The paths whose bytes differ from `earlier` (added, changed or gone), sorted."""
        if earlier is None:
            return tuple(self.files)
        paths = set(self.files) | set(earlier.files)
        return tuple(sorted(p for p in paths if self.files.get(p) != earlier.files.get(p)))

    def to_json(self) -> str:
        return json.dumps(
            {
                "revision": self.revision,
                "files": dict(self.files),
                "problems": self.problems,
                "commit": self.commit,
                "links": self.links,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Bundle:
        data = json.loads(text)
        return cls(
            str(data["revision"]),
            dict(data["files"]),
            tuple(data.get("problems", ())),
            data.get("commit"),
            tuple(data.get("links", ())),
        )


def version_key(blob_sha: str, bundle: Bundle | None) -> str:
    """What a revision's rendered SQL is kept under: its bundle (the SQL depends on env.py
    as much as on the revision file), or the file's blob where the bundle is not known."""
    return bundle.digest if bundle is not None else blob_sha
