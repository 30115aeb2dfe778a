"""The static Alembic revision graph: every revision file read with `ast`, none imported.

A broken history is described, not refused: unreadable files, duplicate ids, missing parents and
loops become `problems`, and the rest of the graph stays usable.
"""

import bisect
import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Literal

from bot.core.revision_file import Revision, RevisionFileError, parse_revision_source
from bot.errors import SchemabotError

__all__ = [
    "AmbiguousRevision",
    "GraphProblem",
    "Revision",
    "RevisionFileError",
    "RevisionGraph",
    "UnknownRevision",
    "parse_revision_source",
    "read_each",
]

_SHOWN_CANDIDATES = 10

ProblemKind = Literal[
    "unparseable",
    "duplicate_id",
    "missing_down_revision",
    "missing_dependency",
    "duplicate_branch_label",
    "cycle",
]


class UnknownRevision(SchemabotError):
    def __init__(self, ident: str) -> None:
        self.ident = ident
        super().__init__(
            f"There is no revision `{ident}`." if ident else "Give a revision id, or its start."
        )


class AmbiguousRevision(SchemabotError):
    def __init__(self, ident: str, candidates: tuple[str, ...]) -> None:
        self.ident, self.candidates = ident, candidates
        shown = ", ".join(f"`{c}`" for c in candidates[:_SHOWN_CANDIDATES])
        more = len(candidates) - _SHOWN_CANDIDATES
        super().__init__(
            f"`{ident}` is the start of {len(candidates)} revisions: {shown}"
            + (f" and {more} more" if more > 0 else "")
            + ". Give more of the id."
        )


@dataclass(frozen=True)
class GraphProblem:
    """Something wrong in the history; `path` is the file to look at."""

    kind: ProblemKind
    path: str
    revision: str | None
    detail: str


class RevisionGraph:
    """Revisions linked as Alembic links them: by `down_revision`, and by `depends_on`.

    Heads follow Alembic: a revision is a head unless another names it as `down_revision`, so one
    reached only through `depends_on` is still a head. Where two files share an id, the later one
    counts, as in Alembic.
    """

    def __init__(self, revisions: Iterable[Revision], problems: Iterable[GraphProblem] = ()):
        found = list(problems)
        by_id: dict[str, Revision] = {}
        for rev in revisions:
            earlier = by_id.pop(rev.revision, None)
            if earlier is not None:
                found.append(
                    GraphProblem(
                        "duplicate_id",
                        earlier.path,
                        rev.revision,
                        f"Revision `{rev.revision}` is declared again in `{rev.path}`; "
                        "Alembic reads that file and ignores this one.",
                    )
                )
            by_id[rev.revision] = rev
        self.revisions: Mapping[str, Revision] = MappingProxyType(by_id)
        self._labels = self._branch_labels(found)
        self._parents: dict[str, tuple[str, ...]] = {}
        self._children: dict[str, list[str]] = {rev: [] for rev in by_id}
        for rev in by_id.values():
            downs = self._links(rev, rev.down_revisions, "missing_down_revision", found)
            for down in downs:
                self._children[down].append(rev.revision)
            deps = self._links(rev, rev.depends_on, "missing_dependency", found)
            self._parents[rev.revision] = tuple(dict.fromkeys(downs + deps))
        self.heads = tuple(sorted(r for r, children in self._children.items() if not children))
        self.bases = tuple(sorted(r.revision for r in by_id.values() if r.is_base))
        self._ordered = self._topological(found)
        self._sorted_ids = sorted(by_id)
        self.problems = tuple(found)

    @classmethod
    def from_sources(cls, sources: Iterable[tuple[str, str]]) -> "RevisionGraph":
        """The graph of (path, source) pairs, given in the order Alembic would load them."""
        return cls(
            *read_each(
                (path, partial(parse_revision_source, source, path)) for path, source in sources
            )
        )

    def children(self, revision: str) -> tuple[str, ...]:
        """Revisions naming this one as `down_revision` (Alembic's `nextrev`)."""
        self._require(revision)
        return tuple(sorted(self._children[revision]))

    def ancestors(self, revision: str) -> frozenset[str]:
        """Every revision this one needs first, through `down_revision` and `depends_on`."""
        self._require(revision)
        seen: set[str] = set()
        todo = [revision]
        while todo:
            for parent in self._parents[todo.pop()]:
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        seen.discard(revision)
        return frozenset(seen)

    def heads_by_design(self) -> bool:
        """Whether the heads are branches kept apart on purpose: each head's own line of
        `down_revision`s (the part no other head shares) holds a revision that declares a
        branch label, or sets one in code (neutron's expand and contract)."""
        if len(self.heads) < 2:
            return False
        lines = {head: self._down_line(head) for head in self.heads}
        for head, line in lines.items():
            shared = set().union(*(other for name, other in lines.items() if name != head))
            if not any(_labelled(self.revisions[rev]) for rev in line - shared):
                return False
        return True

    def _down_line(self, revision: str) -> set[str]:
        """`revision` and everything below it through `down_revision` (not `depends_on`)."""
        seen: set[str] = set()
        todo = [revision]
        while todo:
            current = todo.pop()
            if current in seen or current not in self.revisions:
                continue
            seen.add(current)
            todo.extend(self.revisions[current].down_revisions)
        return seen

    def resolve(self, ident: str) -> Revision:
        """The revision with this id, or the only one whose id starts with it.

        As in Alembic, ids of three characters or fewer match only in full.
        """
        ident = ident.strip()
        if ident in self.revisions:
            return self.revisions[ident]
        candidates: list[str] = []
        index = bisect.bisect_left(self._sorted_ids, ident)
        while index < len(self._sorted_ids) and self._sorted_ids[index].startswith(ident):
            if len(self._sorted_ids[index]) > 3:
                candidates.append(self._sorted_ids[index])
            index += 1
        if not ident or not candidates:
            raise UnknownRevision(ident)
        if len(candidates) > 1:
            raise AmbiguousRevision(ident, tuple(candidates))
        return self.revisions[candidates[0]]

    def ordered(self) -> tuple[Revision, ...]:
        """Every revision after those it needs, bases first; ties go to the older Create Date.

        Revisions caught in a loop come last.
        """
        return tuple(self.revisions[rev] for rev in self._ordered)

    def _require(self, revision: str) -> None:
        if revision not in self.revisions:
            raise UnknownRevision(revision)

    def _branch_labels(self, found: list[GraphProblem]) -> dict[str, str]:
        labels: dict[str, str] = {}
        for rev in self.revisions.values():
            for label in rev.branch_labels:
                owner = labels.get(label) or (label if label in self.revisions else None)
                if owner is None:
                    labels[label] = rev.revision
                    continue
                found.append(
                    GraphProblem(
                        "duplicate_branch_label",
                        rev.path,
                        rev.revision,
                        f"Branch label `{label}` of `{rev.revision}` is already used by "
                        f"`{owner}`; Alembic refuses to load this history.",
                    )
                )
        return labels

    def _links(
        self,
        rev: Revision,
        refs: tuple[str, ...],
        kind: Literal["missing_down_revision", "missing_dependency"],
        found: list[GraphProblem],
    ) -> tuple[str, ...]:
        """The revision ids `refs` name, directly or by branch label, as Alembic resolves them."""
        ids: list[str] = []
        for ref in refs:
            target = ref if ref in self.revisions else self._labels.get(ref)
            if target is not None:
                ids.append(target)
                continue
            what = "down revision" if kind == "missing_down_revision" else "dependency"
            detail = f"`{rev.revision}` names {what} `{ref}`, which is not in this history."
            coded = sorted(
                r.path for r in self.revisions.values() if "branch_labels" in r.unresolved
            )
            if kind == "missing_dependency" and coded:
                detail += f" It may be a branch label set by code in `{'`, `'.join(coded)}`."
            found.append(GraphProblem(kind, rev.path, rev.revision, detail))
        return tuple(ids)

    def _topological(self, found: list[GraphProblem]) -> list[str]:
        waiting = {rev: len(parents) for rev, parents in self._parents.items()}
        needed_by: dict[str, list[str]] = {rev: [] for rev in self._parents}
        for rev, parents in self._parents.items():
            for parent in parents:
                needed_by[parent].append(rev)

        def key(rev: str) -> tuple[str, str]:
            return self.revisions[rev].create_date or "", rev

        ready = [key(rev) for rev, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, rev = heapq.heappop(ready)
            order.append(rev)
            for child in needed_by[rev]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, key(child))
        stuck = sorted(set(waiting) - set(order))
        if stuck:
            first = self.revisions[stuck[0]]
            found.append(
                GraphProblem(
                    "cycle",
                    first.path,
                    first.revision,
                    f"Revisions `{'`, `'.join(stuck)}` are in, or come after, a loop of "
                    "down_revision or depends_on; Alembic refuses to load this history.",
                )
            )
        return order + stuck


def _labelled(revision: Revision) -> bool:
    return bool(revision.branch_labels) or "branch_labels" in revision.unresolved


def read_each(
    files: Iterable[tuple[str, Callable[[], Revision]]],
) -> tuple[list[Revision], list[GraphProblem]]:
    """Each file read, or the reason it could not be, as a problem."""
    revisions: list[Revision] = []
    problems: list[GraphProblem] = []
    for path, read in files:
        try:
            revisions.append(read())
        except RevisionFileError as e:
            problems.append(GraphProblem("unparseable", path, None, e.detail))
    return revisions, problems
