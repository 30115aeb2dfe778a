"""The static revision graph: its problems, lookups and size."""

import hashlib

import pytest

from bot.core.revisions import (
    AmbiguousRevision,
    RevisionGraph,
    UnknownRevision,
)
from tests.support.revision_files import (
    revision_source,
)


def test_a_file_that_does_not_parse_is_a_problem_and_the_rest_still_works() -> None:
    graph = RevisionGraph.from_sources(
        [
            ("v/1000_base.py", revision_source("1000")),
            ("v/2000_broken.py", "revision = '2000'\ndown_revision = '1000'\ndef upgrade(:\n"),
            ("v/3000_next.py", revision_source("3000", "1000")),
        ]
    )
    [problem] = graph.problems
    assert (problem.kind, problem.path, problem.revision) == (
        "unparseable",
        "v/2000_broken.py",
        None,
    )
    assert problem.detail.startswith("line 3: not valid Python")
    assert graph.heads == ("3000",)


def test_a_duplicate_id_is_a_problem_and_the_later_file_counts_as_in_alembic() -> None:
    graph = RevisionGraph.from_sources(
        [
            ("v/1000_base.py", revision_source("1000")),
            ("v/2000_a.py", revision_source("2000", "1000", doc="first")),
            ("v/2000_b.py", revision_source("2000", "1000", doc="second")),
        ]
    )
    [problem] = graph.problems
    assert (problem.kind, problem.path, problem.revision) == ("duplicate_id", "v/2000_a.py", "2000")
    assert "`v/2000_b.py`" in problem.detail
    assert graph.revisions["2000"].message == "second"
    assert graph.heads == ("2000",)


def test_a_missing_down_revision_or_dependency_is_a_problem() -> None:
    graph = RevisionGraph.from_sources(
        [
            ("v/1000_base.py", revision_source("1000")),
            ("v/2000_orphan.py", revision_source("2000", "0bad", depends="0gone")),
            ("v/3000_next.py", revision_source("3000", "2000")),
        ]
    )
    assert [(p.kind, p.revision) for p in graph.problems] == [
        ("missing_down_revision", "2000"),
        ("missing_dependency", "2000"),
    ]
    assert "`0bad`" in graph.problems[0].detail
    assert graph.heads == ("1000", "3000")
    assert graph.bases == ("1000",)
    assert graph.ancestors("3000") == {"2000"}


def test_a_dependency_that_may_be_a_label_set_by_code_says_so() -> None:
    graph = RevisionGraph.from_sources(
        [
            ("v/1000.py", "revision = '1000'\ndown_revision = None\nbranch_labels = (cli.X,)\n"),
            ("v/2000.py", revision_source("2000", "1000", depends="expand")),
        ]
    )
    [problem] = graph.problems
    assert problem.kind == "missing_dependency"
    assert "branch label set by code in `v/1000.py`" in problem.detail


def test_a_branch_label_used_twice_is_a_problem() -> None:
    graph = RevisionGraph.from_sources(
        [
            ("v/1000.py", revision_source("1000", labels="core")),
            ("v/2000.py", revision_source("2000", labels=("core", "1000"))),
        ]
    )
    assert [(p.kind, p.revision) for p in graph.problems] == [
        ("duplicate_branch_label", "2000"),
        ("duplicate_branch_label", "2000"),
    ]


def test_a_loop_is_a_problem_and_its_revisions_are_listed_last() -> None:
    graph = RevisionGraph.from_sources(
        [
            ("v/1000.py", revision_source("1000")),
            ("v/2000.py", revision_source("2000", "3000")),
            ("v/3000.py", revision_source("3000", "2000")),
            ("v/4000.py", revision_source("4000", "4000")),
        ]
    )
    [problem] = graph.problems
    assert (problem.kind, problem.path) == ("cycle", "v/2000.py")
    assert "`2000`, `3000`, `4000`" in problem.detail
    assert [r.revision for r in graph.ordered()] == ["1000", "2000", "3000", "4000"]


# Finding a revision


def test_a_revision_is_found_by_its_id_or_a_unique_start() -> None:
    graph = RevisionGraph.from_sources(
        [
            ("v/1.py", revision_source("abc")),
            ("v/2.py", revision_source("abcd1234", "abc")),
            ("v/3.py", revision_source("abcd5678", "abc")),
            ("v/4.py", revision_source("ffee0011", "abc")),
        ]
    )
    assert graph.resolve("abc").revision == "abc"
    assert graph.resolve(" ffe ").revision == "ffee0011"
    assert graph.resolve("abcd1").revision == "abcd1234"
    with pytest.raises(AmbiguousRevision) as ambiguous:
        graph.resolve("ab")
    assert ambiguous.value.candidates == ("abcd1234", "abcd5678")
    assert str(ambiguous.value) == (
        "`ab` is the start of 2 revisions: `abcd1234`, `abcd5678`. Give more of the id."
    )
    with pytest.raises(UnknownRevision, match=r"^There is no revision `abd`\.$"):
        graph.resolve("abd")
    with pytest.raises(UnknownRevision, match="Give a revision id"):
        graph.resolve("")
    with pytest.raises(UnknownRevision):
        graph.ancestors("abcd")


def test_five_thousand_revisions() -> None:
    ids = [hashlib.sha1(str(i).encode()).hexdigest()[:12] for i in range(5000)]
    files = {f"versions/{ids[0]}_r.py": revision_source(ids[0])}
    for i in range(1, 4999):
        # Every 500 revisions, two branches from the same parent, merged by the next one.
        down = {2: ids[i - 2], 3: (ids[i - 1], ids[i - 2])}.get(i % 500, ids[i - 1])
        files[f"versions/{ids[i]}_r.py"] = revision_source(ids[i], down)
    files[f"versions/{ids[4999]}_r.py"] = revision_source(ids[4999], ids[2500])
    graph = RevisionGraph.from_sources(files.items())

    assert len(graph.revisions) == 5000
    assert graph.problems == ()
    assert graph.heads == tuple(sorted([ids[4998], ids[4999]]))
    assert graph.bases == (ids[0],)
    assert len(graph.ancestors(ids[4998])) == 4998
    assert graph.resolve(ids[1234][:10]).revision == ids[1234]
    with pytest.raises(AmbiguousRevision, match=r"and \d+ more\. Give more"):
        graph.resolve("a")
    assert graph.ordered()[0].revision == ids[0]


def test_heads_on_labelled_branches_are_a_design_and_unlabelled_ones_are_not() -> None:
    labelled = RevisionGraph.from_sources(
        [
            ("v/base.py", revision_source("base0")),
            ("v/e1.py", revision_source("e1", "base0", labels="expand")),
            ("v/e2.py", revision_source("e2", "e1")),
            ("v/c1.py", revision_source("c1", "base0", labels="contract", depends="e1")),
        ]
    )
    forked = RevisionGraph.from_sources(
        [
            ("v/base.py", revision_source("base0")),
            ("v/a.py", revision_source("a1", "base0")),
            ("v/b.py", revision_source("b1", "base0")),
        ]
    )

    assert labelled.heads == ("c1", "e2") and labelled.heads_by_design()
    assert forked.heads == ("a1", "b1") and not forked.heads_by_design()
