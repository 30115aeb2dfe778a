"""One revision file read statically, checked against what Alembic reads from it."""

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.revision_file import id_problem
from bot.core.revisions import (
    RevisionFileError,
    parse_revision_source,
)
from bot.git.checkout_graph import load_graph
from tests.support.revision_files import (
    alembic,
    assert_same_as_alembic,
    revision_source,
    versions_at,
    write,
)


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
        ("revision = 'a-b'\ndown_revision = None\n", "is not letters, digits and `_`"),
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


@pytest.mark.parametrize(
    "revision",
    [
        "head",
        "heads",
        "Base",
        "a/b",
        "../etc",
        "x..y",
        ".",
        "..",
        ".x",
        "x.",
        "a b",
        "a\x00b",
        "b" * 65,
        "<!channel>",
        "",
    ],
)
def test_ids_alembic_or_slack_would_read_as_something_else_are_refused(revision: str) -> None:
    source = f"revision = {revision!r}\ndown_revision = None\n"
    assert id_problem(revision) is not None
    with pytest.raises(RevisionFileError):
        parse_revision_source(source, "versions/x.py")


@pytest.mark.parametrize(
    "revision", ["1a2b3c4d5e6f", "merge_enum_fix_and_photo_urls", "kilo", "v1.2"]
)
def test_ids_people_write_are_accepted(revision: str) -> None:
    assert id_problem(revision) is None
