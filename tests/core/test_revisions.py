"""The static revision graph, checked against Alembic's own ScriptDirectory on the same files."""

import ast
import hashlib
import json
import py_compile
import tempfile
import time
from pathlib import Path, PurePosixPath

import pytest
from alembic.script import ScriptDirectory
from alembic.util import to_tuple
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.revisions import (
    AmbiguousRevision,
    RevisionFileError,
    RevisionGraph,
    UnknownRevision,
    load_graph,
    parse_revision_source,
)
from bot.git.script_location import ScriptLocation

CORPORA = ["neutron", "ctfd", "redash"]
FIELDS = {"revision", "down_revision", "branch_labels", "depends_on"}


def revision_source(
    rev: str,
    down: str | tuple[str, ...] | None = None,
    *,
    labels: str | tuple[str, ...] | None = None,
    depends: str | tuple[str, ...] | None = None,
    doc: str | None = None,
) -> str:
    """A revision file as `alembic revision` writes it."""
    if doc is None:
        doc = f"{rev} message\n\nRevision ID: {rev}\nCreate Date: 2024-05-01 10:00:00\n\n"
    return (
        f'"""{doc}"""\n'
        "from alembic import op\n\n"
        f"revision = {rev!r}\n"
        f"down_revision = {down!r}\n"
        f"branch_labels = {labels!r}\n"
        f"depends_on = {depends!r}\n\n\n"
        "def upgrade():\n    pass\n\n\n"
        "def downgrade():\n    pass\n"
    )


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def versions_at(*dirs: str, recursive: bool = False) -> ScriptLocation:
    return ScriptLocation(PurePosixPath("."), tuple(PurePosixPath(d) for d in dirs), recursive)


def alembic(root: Path, *dirs: str, **options: bool) -> ScriptDirectory:
    return ScriptDirectory(root, version_locations=[str(root / d) for d in dirs], **options)


def assert_same_as_alembic(ours: RevisionGraph, script: ScriptDirectory, root: Path) -> None:
    """Heads, bases and each revision's links, message, children and ancestors agree."""
    assert ours.heads == tuple(sorted(script.get_heads()))
    assert ours.bases == tuple(sorted(script.get_bases()))
    theirs = {s.revision: s for s in script.walk_revisions()}
    assert set(ours.revisions) == set(theirs)
    for rev, s in theirs.items():
        mine = ours.revisions[rev]
        assert mine.down_revisions == s._versioned_down_revisions
        assert mine.depends_on == to_tuple(s.dependencies, ())
        assert mine.message == s.doc
        assert mine.path == Path(s.path).relative_to(root.resolve()).as_posix()
        assert ours.children(rev) == tuple(sorted(s.nextrev))
        ancestors = script.revision_map._get_ancestor_nodes([s], include_dependencies=True)
        assert ours.ancestors(rev) == {a.revision for a in ancestors} - {rev}


# Reading one file


def test_a_revision_file_gives_its_links_message_and_date() -> None:
    source = revision_source("ae1027a6acf", ("1975ea83b712", "27c6a30d7c24"), doc=None)
    rev = parse_revision_source(source, "migrations/versions/ae1027a6acf_merge.py")
    assert rev.revision == "ae1027a6acf"
    assert rev.down_revisions == ("1975ea83b712", "27c6a30d7c24")
    assert rev.is_merge
    assert (rev.branch_labels, rev.depends_on, rev.unresolved) == ((), (), ())
    assert rev.message == "ae1027a6acf message"
    assert rev.create_date == "2024-05-01 10:00:00"
    assert rev.path == "migrations/versions/ae1027a6acf_merge.py"


def test_annotated_assignments_as_written_by_alembics_current_template() -> None:
    source = (
        '"""add users\n\nRevision ID: 1a2b\nCreate Date: 2025-01-02 03:04:05.678901\n\n"""\n'
        "from typing import Sequence, Union\n\n"
        'revision: str = "1a2b"\n'
        "down_revision: Union[str, Sequence[str], None] = None\n"
        'branch_labels: Union[str, Sequence[str], None] = ["core", "auth"]\n'
        'depends_on: Union[str, Sequence[str], None] = "0ff1ce"\n'
    )
    rev = parse_revision_source(source, "v/1a2b_add_users.py")
    assert (rev.revision, rev.down_revisions) == ("1a2b", ())
    assert rev.branch_labels == ("core", "auth")
    assert rev.depends_on == ("0ff1ce",)
    assert rev.create_date == "2025-01-02 03:04:05.678901"
    assert rev.to_json() == {
        "revision": "1a2b",
        "down_revisions": [],
        "branch_labels": ["core", "auth"],
        "depends_on": ["0ff1ce"],
        "path": "v/1a2b_add_users.py",
        "message": "add users",
        "create_date": "2025-01-02 03:04:05.678901",
        "unresolved": [],
    }


def test_values_set_by_code_are_unresolved_and_the_rest_is_kept() -> None:
    source = (
        "from neutron.db.migration import cli\n"
        "revision = '599c6a226151'\n"
        "down_revision = 'kilo'\n"
        "branch_labels = (cli.EXPAND_BRANCH,)\n"
        "depends_on = ('313373c0ffee', cli.CONTRACT_HEAD)\n"
    )
    rev = parse_revision_source(source, "x.py")
    assert rev.down_revisions == ("kilo",)
    assert rev.branch_labels == ()
    assert rev.depends_on == ("313373c0ffee",)
    assert rev.unresolved == ("branch_labels", "depends_on")


@pytest.mark.parametrize(
    "tail",
    [
        "down_revision = previous()",
        "down_revision = 'a'\nif DEBUG:\n    down_revision = 'b'",
        "down_revision = 'a'\nfrom elsewhere import down_revision",
        "down_revision = 'a'\ndown_revision += 'b'",
        "down_revision = 'a'\nfor down_revision in ['b']:\n    pass",
        "down_revision, other = compute()",
    ],
)
def test_a_down_revision_only_code_knows_is_unresolved_and_not_a_base(tail: str) -> None:
    rev = parse_revision_source(f"revision = 'c'\n{tail}\n", "c.py")
    assert rev.unresolved == ("down_revision",)
    assert not rev.is_base


def test_the_last_module_level_assignment_counts_and_nested_scopes_do_not() -> None:
    source = (
        "revision = 'old'\n"
        "revision, down_revision = 'new', ('a', 'b')\n"
        "def upgrade():\n    revision = 'inner'\n"
        "class Helper:\n    depends_on = 'inner'\n"
    )
    rev = parse_revision_source(source, "new.py")
    assert (rev.revision, rev.down_revisions, rev.depends_on) == ("new", ("a", "b"), ())
    assert rev.unresolved == ()


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("down_revision = None\n", "no `revision"),
        ("revision = make_id()\ndown_revision = None\n", "line 1: `revision` is set by code"),
        ("revision = 42\ndown_revision = None\n", "line 1: `revision` must be a string"),
        ("revision = 'a-b'\ndown_revision = None\n", "has -, not allowed"),
        ("revision = 'a'\n", "no `down_revision"),
        ("revision = 'a'\ndown_revision = 7\n", "line 2: `down_revision` must be"),
        ("revision = 'a'\ndown_revision = None\n\ndef upgrade(:\n", "line 4: not valid Python"),
        ("revision = 'a'\x00\n", "not valid Python"),
    ],
)
def test_a_file_that_is_not_a_revision_names_the_file_and_why(source: str, reason: str) -> None:
    with pytest.raises(RevisionFileError, match=r"^versions/not_a_revision\.py") as caught:
        parse_revision_source(source, "versions/not_a_revision.py")
    assert reason in str(caught.value)


def test_without_a_revision_variable_the_id_comes_from_a_hex_file_name_as_in_alembic_0_1() -> None:
    rev = parse_revision_source("down_revision = None\n", "versions/3a4f.py")
    assert rev.revision == "3a4f"


@pytest.mark.parametrize(
    "doc_part",
    [
        '"""Add users\n\nmore text"""',
        '"""\n    Add users\n    over two lines\n\n    Revision ID: x\n"""',
        "'''   '''",
        '"""first\n \nstill the first paragraph\n\nsecond"""',
        'r"""raw \\n text"""',
        "'escaped\\n\\nparagraphs'",
        'b"""bytes are no docstring"""',
        'f"""neither is an {"f-string"}"""',
        'import os\n"""after an import: not the module docstring"""',
        "# only a comment",
        '"""original"""\n__doc__ = "replaced"',
        "__doc__ = None",
    ],
)
def test_the_message_is_what_alembic_reports(tmp_path: Path, doc_part: str) -> None:
    source = f"{doc_part}\nrevision = 'abcd'\ndown_revision = None\n"
    write(tmp_path, {"versions/abcd_x.py": source})
    graph = load_graph(tmp_path, versions_at("versions"))
    assert graph.revisions["abcd"].message == alembic(tmp_path, "versions").get_revision("abcd").doc


def test_a_docstring_set_by_code_has_an_unknown_message() -> None:
    rev = parse_revision_source("revision = 'a'\ndown_revision = None\n__doc__ = f()\n", "a.py")
    assert (rev.message, rev.create_date, rev.unresolved) == (None, None, ("message",))


def test_files_are_decoded_as_python_imports_them(tmp_path: Path) -> None:
    crlf = b'"""Add caf\xc3\xa9\r\n\r\nRevision ID: a1\r\n"""\r\nrevision = "a1"\r\n'
    crlf += b"down_revision = None\r\n"
    latin = b'# -*- coding: latin-1 -*-\n"""Caf\xe9"""\nrevision = "b2"\ndown_revision = "a1"\n'
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions/a1_x.py").write_bytes(crlf)
    (tmp_path / "versions/b2_x.py").write_bytes(latin)
    graph = load_graph(tmp_path, versions_at("versions"))
    assert_same_as_alembic(graph, alembic(tmp_path, "versions"), tmp_path)
    assert [r.message for r in graph.ordered()] == ["Add café", "Café"]


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="ab \t\n\r.:", max_size=30))
def test_any_docstring_gives_alembics_message(doc: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write(root, {"versions/abcd_x.py": f"{doc!r}\nrevision = 'abcd'\ndown_revision = None\n"})
        ours = load_graph(root, versions_at("versions")).revisions["abcd"].message
        assert ours == alembic(root, "versions").get_revision("abcd").doc


# Real histories


@pytest.mark.parametrize("name", CORPORA)
def test_a_real_history_reads_as_alembic_read_it(corpus: Path, name: str) -> None:
    expected = json.loads((corpus / name / "expected.json").read_text())
    graph = load_graph(corpus / name, versions_at(*expected["version_locations"]))
    assert graph.problems == ()
    assert list(graph.heads) == expected["heads"]
    assert list(graph.bases) == expected["bases"]
    assert set(graph.revisions) == set(expected["revisions"])
    unresolved = {}
    for rev, want in expected["revisions"].items():
        mine = graph.revisions[rev]
        assert sorted(mine.down_revisions) == want["down_revisions"]
        assert sorted(mine.depends_on) == want["depends_on"]
        assert (mine.path, mine.message) == (want["path"], want["message"])
        if mine.unresolved:
            unresolved[rev] = (mine.unresolved, mine.branch_labels, want["branch_labels"])
        else:
            assert sorted(mine.branch_labels) == want["branch_labels"]
    if name == "neutron":
        # `branch_labels = (cli.EXPAND_BRANCH,)`: imported constants, which only running tells.
        assert unresolved == {
            "599c6a226151": (("branch_labels",), (), ["expand"]),
            "30018084ec99": (("branch_labels",), (), ["contract"]),
        }
    else:
        assert unresolved == {}


def test_neutron_read_recursively_from_its_top_folder_is_the_same_graph(corpus: Path) -> None:
    expected = json.loads((corpus / "neutron/expected.json").read_text())
    listed = load_graph(corpus / "neutron", versions_at(*expected["version_locations"]))
    walked = load_graph(corpus / "neutron", versions_at("versions", recursive=True))
    assert walked.revisions == listed.revisions
    assert (walked.heads, walked.bases) == (listed.heads, listed.bases)


def is_literal(node: ast.expr | None) -> bool:
    try:
        ast.literal_eval(node) if node is not None else None
    except (ValueError, TypeError):
        return False
    return node is not None


def inert_copy(source: str) -> str:
    """The file with only what Alembic reads kept, so it imports without the project's packages.

    String statements stay where they are, and every other statement becomes `pass`, so a
    docstring after the imports stays after them. Values set by code are dropped.
    """
    kept = []
    for stmt in ast.parse(source).body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            kept.append(ast.get_source_segment(source, stmt) or "pass")
        elif isinstance(stmt, ast.Assign | ast.AnnAssign) and is_literal(stmt.value):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = [t.id for t in targets if isinstance(t, ast.Name) and t.id in FIELDS]
            value = ast.get_source_segment(source, stmt.value) if stmt.value else None
            kept.append(f"{' = '.join(names)} = {value}" if names else "pass")
        else:
            kept.append("pass")
    return "\n".join(kept) + "\n"


@pytest.mark.parametrize("name", CORPORA)
def test_alembic_itself_agrees_on_an_inert_copy_of_a_real_history(
    corpus: Path, name: str, tmp_path: Path
) -> None:
    """The projects' migrations import their own packages, so Alembic gets an inert copy."""
    expected = json.loads((corpus / name / "expected.json").read_text())
    for rev in expected["revisions"].values():
        source = (corpus / name / rev["path"]).read_text(encoding="utf-8")
        write(tmp_path, {rev["path"]: inert_copy(source)})
    ours = load_graph(corpus / name, versions_at(*expected["version_locations"]))
    script = alembic(tmp_path, *expected["version_locations"])
    assert_same_as_alembic(ours, script, tmp_path)


# Generated histories against Alembic


def test_a_generated_history_with_branches_merges_labels_and_dependencies(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "versions/1000_base.py": revision_source("1000"),
            "versions/2000_users.py": revision_source("2000", "1000"),
            "versions/3000_left.py": revision_source("3000", "2000"),
            "versions/3100_right.py": revision_source("3100", "2000"),
            "versions/4000_merge.py": revision_source("4000", ("3000", "3100")),
            "versions/5000_after.py": revision_source("5000", "4000"),
            "reports/a000_reports.py": revision_source("a000", labels="reports", depends="2000"),
            "reports/a100_more.py": revision_source("a100", "a000"),
            "versions/6000_needs_reports.py": revision_source("6000", "5000", depends="reports"),
            "versions/7000_needs_many.py": revision_source(
                "7000", "6000", depends=("a100", "3000")
            ),
        },
    )
    ours = load_graph(tmp_path, versions_at("versions", "reports"))
    script = alembic(tmp_path, "versions", "reports")
    assert_same_as_alembic(ours, script, tmp_path)
    # `a100` stays a head: being depended on does not make a revision a parent, in Alembic.
    assert ours.heads == ("7000", "a100")
    assert ours.bases == ("1000", "a000")
    assert ours.ancestors("6000") >= {"a000", "3100"}
    assert ours.problems == ()


@st.composite
def histories(draw: st.DrawFn) -> dict[str, str]:
    """Files of a random history: revisions on up to two earlier ones, maybe depending on one."""
    count = draw(st.integers(1, 9))
    ids = [f"{i:x}" * 4 for i in range(count)]
    labelled = draw(st.booleans())
    files = {}
    for i, rev in enumerate(ids):
        earlier = st.sampled_from(ids[:i] or ["unused"])
        downs = draw(st.lists(earlier, max_size=2, unique=True)) if i else []
        depends = draw(st.lists(earlier | st.just("first"), max_size=1)) if i and labelled else []
        label = "first" if labelled and i == 0 else None
        files[f"versions/{rev}_r.py"] = revision_source(
            rev, tuple(downs) or None, labels=label, depends=tuple(depends) or None
        )
    return files


@settings(max_examples=30, deadline=None)
@given(histories())
def test_random_histories_agree_with_alembics_revision_map(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = write(Path(folder), files)
        ours = load_graph(root, versions_at("versions"))
        assert_same_as_alembic(ours, alembic(root, "versions"), root)
    order = [r.revision for r in ours.ordered()]
    assert sorted(order) == sorted(ours.revisions)
    for rev in ours.revisions:
        assert all(order.index(a) < order.index(rev) for a in ours.ancestors(rev))


def test_the_listing_order_does_not_depend_on_the_order_files_are_read(corpus: Path) -> None:
    root = corpus / "redash"
    files = versions_at("versions").revision_files(root)
    sources = [(f.as_posix(), (root / f).read_text(encoding="utf-8")) for f in files]
    listed = RevisionGraph.from_sources(sources).ordered()
    assert RevisionGraph.from_sources(reversed(sources)).ordered() == listed
    graph = RevisionGraph.from_sources(sources)
    assert (listed[0].revision, listed[-1].revision) == (graph.bases[0], graph.heads[0])
    position = {r.revision: i for i, r in enumerate(listed)}
    assert all(position[a] < position[r] for r in position for a in graph.ancestors(r))


# Which files are revisions


def test_only_the_files_alembic_loads_are_revisions(tmp_path: Path) -> None:
    never = 'raise RuntimeError("never imported")\n'
    write(
        tmp_path,
        {
            "versions/1000_base.py": revision_source("1000"),
            "versions/2000_next.py": revision_source("2000", "1000"),
            "versions/sub/3000_nested.py": revision_source("3000", "2000"),
            "versions/README": "Generic single-database configuration.\n",
            "versions/EXPAND_HEAD": "2000\n",
            "versions/__init__.py": never,
            "versions/__init__x.py": never,
            "versions/.#2000_next.py": "root@host.1234",
            "versions/notes.txt": never,
            "versions/__pycache__/ghost.py": never,
            "versions/sub/__pycache__/ghost.py": never,
            "versions/stale.pyc": never,
        },
    )
    for recursive in (False, True):
        location = versions_at("versions", recursive=recursive)
        ours = [p.as_posix() for p in location.revision_files(tmp_path)]
        script = alembic(tmp_path, "versions", recursive_version_locations=recursive)
        theirs = sorted(
            Path(s.path).relative_to(tmp_path).as_posix() for s in script.walk_revisions()
        )
        assert sorted(ours) == theirs
        every_file = [
            p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()
        ]
        assert sorted(p for p in every_file if location.is_revision_path(p)) == theirs
        graph = load_graph(tmp_path, location)
        assert graph.problems == ()
        assert graph.heads == (("3000",) if recursive else ("2000",))


def test_a_compiled_revision_without_source_is_found_but_cannot_be_read(tmp_path: Path) -> None:
    write(tmp_path, {"versions/1000_base.py": revision_source("1000")})
    compiled = tmp_path / "versions/2000_next.py"
    compiled.write_text(revision_source("2000", "1000"))
    py_compile.compile(str(compiled), cfile=str(tmp_path / "versions/2000_next.pyc"))
    compiled.unlink()
    location = ScriptLocation(PurePosixPath("."), (PurePosixPath("versions"),), sourceless=True)
    script = alembic(tmp_path, "versions", sourceless=True)
    theirs = sorted(Path(s.path).name for s in script.walk_revisions())
    assert [p.name for p in location.revision_files(tmp_path)] == theirs
    graph = load_graph(tmp_path, location)
    [problem] = graph.problems
    assert (problem.kind, problem.path) == ("unparseable", "versions/2000_next.pyc")
    assert "without its source" in problem.detail
    assert graph.heads == ("1000",)


def test_a_link_to_a_file_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"versions/1000_base.py": revision_source("1000")})
    secret = write(tmp_path, {"secret.py": revision_source("5ec2e7", doc="a secret")})
    (repo / "versions/5ec2e7_link.py").symlink_to(secret / "secret.py")
    graph = load_graph(repo, versions_at("versions"))
    assert [(p.kind, p.path) for p in graph.problems] == [
        ("unparseable", "versions/5ec2e7_link.py")
    ]
    assert "outside the repository" in graph.problems[0].detail
    assert list(graph.revisions) == ["1000"]


# Broken histories


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


def test_five_thousand_revisions(tmp_path: Path) -> None:
    ids = [hashlib.sha1(str(i).encode()).hexdigest()[:12] for i in range(5000)]
    files = {f"versions/{ids[0]}_r.py": revision_source(ids[0])}
    for i in range(1, 4999):
        # Every 500 revisions, two branches from the same parent, merged by the next one.
        down = {2: ids[i - 2], 3: (ids[i - 1], ids[i - 2])}.get(i % 500, ids[i - 1])
        files[f"versions/{ids[i]}_r.py"] = revision_source(ids[i], down)
    files[f"versions/{ids[4999]}_r.py"] = revision_source(ids[4999], ids[2500])
    write(tmp_path, files)

    started = time.process_time()
    graph = load_graph(tmp_path, versions_at("versions"))
    elapsed = time.process_time() - started

    assert len(graph.revisions) == 5000
    assert graph.problems == ()
    assert graph.heads == tuple(sorted([ids[4998], ids[4999]]))
    assert graph.bases == (ids[0],)
    assert len(graph.ancestors(ids[4998])) == 4998
    assert graph.resolve(ids[1234][:10]).revision == ids[1234]
    with pytest.raises(AmbiguousRevision, match=r"and \d+ more\. Give more"):
        graph.resolve("a")
    assert graph.ordered()[0].revision == ids[0]
    assert elapsed < 2.0, f"reading 5,000 revisions took {elapsed:.2f}s"
