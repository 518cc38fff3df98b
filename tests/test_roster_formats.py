"""Rosters as LMSs export them (issue 14.4), recognised by their headers.

The fixtures in tests/fixtures/rosters/ are written from each tool's documented layout (not
downloaded from a live course): Canvas's gradebook export (`Student, ID, SIS User ID, SIS Login ID,
Section`, a `Points Possible` second row, a Test Student without an SIS id), a Moodle participants
export (`First name, Surname, ID number, Email address, …`), a Gradescope roster (`First Name,
Last Name, SID, Email, Role, Sections`) and a plain `ID, Name, Section` sheet.
"""

from __future__ import annotations

import pytest

from qgen.errors import SubmissionError
from qgen.roster import load_roster, roster_columns
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "rosters"


@pytest.mark.parametrize("name, layout", [("canvas-gradebook-export.csv", "canvas"),
                                          ("moodle-participants.csv", "moodle"),
                                          ("gradescope-roster.csv", "gradescope"), ("plain.csv", "plain")])
def test_every_layout_gives_the_same_students(name, layout):
    path = FIXTURES / name
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert roster_columns(header).layout == layout
    students = load_roster(path)
    assert [s.id for s in students] == ["s1001", "s1002"]  # Canvas: the SIS User ID; no Points Possible row
    assert [s.name for s in students][1] in ("Grace Hopper", "Hopper, Grace")
    assert students[0].section in ("A", "Section A")


def test_canvas_keeps_its_own_id_and_login_for_the_gradebook():
    ada = load_roster(FIXTURES / "canvas-gradebook-export.csv")[0]
    assert (ada.id, ada.lms_id, ada.login, ada.name) == ("s1001", "101", "alovelace", "Lovelace, Ada")


def test_moodle_and_gradescope_join_first_and_last_name_and_keep_the_email():
    for name in ("moodle-participants.csv", "gradescope-roster.csv"):
        ada = load_roster(FIXTURES / name)[0]
        assert (ada.name, ada.email) == ("Ada Lovelace", "ada@example.edu")


def test_headers_are_case_insensitive(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("STUDENT_ID;NAME;SECTION\nx1;Ann;B\n", encoding="utf-8")
    assert load_roster(path)[0].name == "Ann" and load_roster(path)[0].section == "B"
    path.write_text("sis user id,student,section\nx1,\"Doe, Ann\",B\n", encoding="utf-8")
    assert load_roster(path)[0].id == "x1"


def test_an_unknown_header_is_one_line_naming_the_columns_found(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("Matrikel,Vorname,Nachname\n1,A,B\n", encoding="utf-8")
    with pytest.raises(SubmissionError) as e:
        load_roster(path)
    message = str(e.value)
    assert "\n" not in message and "'Matrikel', 'Vorname', 'Nachname'" in message
    assert "SIS User ID" in message and "ID number" in message and "SID" in message
