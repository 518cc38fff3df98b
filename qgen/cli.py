"""The `qgen` command: a thin layer over the library. Every QgenError becomes a one-line error."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import click

from qgen import __version__
from qgen.errors import QgenError
from qgen.notation import PROFILES

# sympy, numpy and the families are imported inside the commands that need them, so that
# `qgen --help`, `--version` and Tab completion start at once (tests/test_cli_native.py checks it)
MAX_VERSIONS = 10_000  # qgen.bank.MAX_VERSIONS (a test checks they agree)


class _Group(click.Group):
    """Turns QgenError into `Error: <message>` and exit code 1, in one place; any other failure
    (a bug) is one line too, and its traceback is shown with QGEN_DEBUG=1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except QgenError as e:
            raise click.ClickException(_one_line(str(e))) from None
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # the reader went away (`qgen check BANK | head`): stop quietly, as Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        except Exception as e:
            if os.environ.get("QGEN_DEBUG"):
                raise
            raise click.ClickException(_one_line(
                f"internal error ({type(e).__name__}: {e}); this is a bug in qgen: please report it with the "
                f"command you ran (QGEN_DEBUG=1 shows the traceback)")) from None


def _one_line(text: str) -> str:
    """A message on one line (a file's text quoted in it may hold line breaks)."""
    return " ".join(text.split()) if "\n" in text or "\r" in text else text


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qgen")
def main() -> None:
    """Randomized neural-network exam questions: solved exactly, rendered to LaTeX/PDF."""


QUIET_HELP = "Print nothing but errors and warnings (on stderr): no progress, no summary."


def _quiet(f):
    """The one --quiet/-q of every command that reports what it did (list and solve print their result)."""
    return click.option("--quiet", "-q", is_flag=True, help=QUIET_HELP)(f)


def _say(quiet: bool, text: str, *, err: bool = False) -> None:
    if not quiet:
        click.echo(text, err=err)


class _Bar:
    """A progress bar on stderr, told its length by a negative step (`bar(-n)`), then each step
    done (`bar(1)`); silent with --quiet. click draws it only when stderr is a terminal."""

    def __init__(self, label: str, quiet: bool) -> None:
        # no bar (not even its label) when stderr is not a terminal: a log file gets no noise
        self.label, self.quiet, self.bar = label, quiet or not sys.stderr.isatty(), None

    def __call__(self, n: int) -> None:
        if self.quiet:
            return
        if n < 0:
            self.close()
            self.bar = click.progressbar(length=-n, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        elif self.bar is not None:
            self.bar.update(n)
            if self.bar.pos >= self.bar.length:
                self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


_FAMILIES_HELP = ("A folder (or .py file) of the course's own family modules, as a bank's `families:` lists them; "
                  "repeat for several.")


def _families_option(f):
    return click.option("--families", "family_paths", multiple=True, metavar="PATH",
                        type=click.Path(exists=True, path_type=Path), help=_FAMILIES_HELP)(f)


def _load_course(paths: tuple[Path, ...]) -> list[str]:
    """Load the course families of --families; their names."""
    if not paths:
        return []
    from qgen.families import INDEX, course

    files = [f for p in paths for f in course.module_files(p, "--families")]
    return [s.name for s in course.load_files(files, INDEX)]


@main.command("list")
@_families_option
def list_families(family_paths: tuple[Path, ...]) -> None:
    """List the question families with a one-line description (qgen's, installed ones, --families)."""
    from qgen import families
    from qgen.families import course

    # from the registry's index: importing every family (numpy, sympy, ...) would take most of a second
    names = {name: families.summary(name) for name in families.INDEX}
    for ep in course.entry_points():
        names.setdefault(ep.name, f"(installed: {ep.value})")
    for name in _load_course(family_paths):
        names[name] = families.summary(name)
    width = max(len(name) for name in names)
    for name in sorted(names):
        click.echo(f"{name:<{width}}  {names[name]}")


@main.group("family")
def family_group() -> None:
    """A course's own question families (docs/families.md)."""


@family_group.command("new")
@click.argument("name")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The course folder to write into.")
@_quiet
def family_new(name: str, folder: Path, quiet: bool) -> None:
    """Write a runnable family NAME: its module and template (families/), a bank and a test."""
    from qgen.families import scaffold

    written = scaffold.write(name, folder)
    bank = next(p for p in written if p.suffix == ".yaml")
    _say(quiet, "wrote " + ", ".join(str(p) for p in written))
    _say(quiet, f"next: qgen check {bank}   ·   pytest {folder / 'tests'}   ·   docs/families.md")


@main.command()
@click.argument("family")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="Draw the instance from this seed (default 0).")
@click.option("--params", "params_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Pin the instance: a YAML file with the family's parameters (e.g. banks/pins/seed-000.yaml).")
@click.option("--notation", type=click.Choice(sorted(PROFILES)), default=None,
              help="Notation profile for symbols and shapes (default: the params file's, else bias-column).")
@click.option("--precision", type=click.IntRange(0, 10), default=None, help="Decimal places shown (default 4).")
@click.option("--json", "as_json", is_flag=True, help="Print the instance, solution and parts as JSON.")
@_families_option
def solve(family: str, seed: int | None, params_file: Path | None, notation: str | None, precision: int | None,
          as_json: bool, family_paths: tuple[Path, ...]) -> None:
    """Solve one instance of FAMILY and show every part's answer."""
    _load_course(family_paths)
    # only what solving needs: the bank reader (yaml) for --params, the generator (jinja2, multiprocessing) for
    # --json's record, and of the families only FAMILY's module
    from qgen.solve import solve as solve_question

    if seed is not None and params_file is not None:
        raise click.UsageError("give --seed or --params, not both")
    params = _load_params(params_file) if params_file else None
    if params is not None and precision is not None:
        params["precision"] = precision
    if params is not None and notation is not None:
        params["notation"] = notation
    q = solve_question(family, seed=seed, params=params, notation=notation, places=precision or 4)
    shown_seed = None if params is not None else (seed or 0)
    if as_json:
        import json

        from qgen.generate import question_record

        click.echo(json.dumps(question_record(q, shown_seed), indent=1))
        return
    click.echo(f"{q.family}  seed={shown_seed}  notation={q.notation.name}")
    width = max(len(p.id) for p in q.parts)
    for p in q.parts:
        answer = _plain_answer(p)
        click.echo(f"  {p.id:<{width}}  {p.kind:<10}  {answer}")


def _load_params(path: Path) -> dict:
    """A --params file's parameters (qgen.bank, and its YAML reader, imported only when one is given)."""
    from qgen.bank import load_params

    return load_params(path)


def _plain_answer(part) -> str:
    """A part's answer as plain text for the terminal."""
    if part.kind == "text":
        return "(graded by hand; model answer in the key)"
    if part.kind == "shape":
        return f"{part.answer[0]} x {part.answer[1]}"
    if part.kind in ("number", "vector", "matrix"):
        return _plain_number(part.answer, part.places)
    return str(part.answer)


def _plain_number(value, places: int) -> str:
    from qgen import numeric

    if isinstance(value, list):
        return "[" + ", ".join(_plain_number(v, places) for v in value) + "]"
    return numeric.decimal_str(numeric.exact(value), places)


@main.command()
@click.argument("bank_file", metavar="BANK", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--versions", type=click.IntRange(1, MAX_VERSIONS), default=None,
              help="How many versions (default: the bank's exam.versions).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: build/<exam id>).")
@click.option("--no-pdf", is_flag=True, help="Write the .tex files and manifest only; no LaTeX needed.")
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None,
              help="Parallel LaTeX runs and solving processes (default: cores).")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=120, show_default=True,
              help="Seconds one LaTeX run may take.")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Roster CSV (id, name, optional section, room; or a Canvas, Moodle or Gradescope export): "
                   "one exam per student in OUT/papers/, "
                   "with name and id on the cover and the version the id hashes to.")
@click.option("--fixed-layout", is_flag=True,
              help="Same page count, and every question on the same page, in every version (for scanning).")
@click.option("--answer-sheet", is_flag=True,
              help="End each exam with an answer sheet: one box per column of answers-template.csv.")
@click.option("--no-qr", is_flag=True, help="No QR code (exam id, version, page, student) on the exam pages.")
@click.option("--combined", is_flag=True,
              help="Also write exams-all.pdf (students' papers in roster order, else the versions) and keys-all.pdf.")
@click.option("--duplex", is_flag=True,
              help="With --combined: pad each paper to an even page count, for double-sided printing.")
@_quiet
def generate(bank_file: Path, versions: int | None, out: Path | None, no_pdf: bool, force: bool, jobs: int | None,
             timeout: float, roster: Path | None, fixed_layout: bool, answer_sheet: bool, no_qr: bool, combined: bool,
             duplex: bool, quiet: bool) -> None:
    """Make exam sheets, answer keys and manifest.json for every version of BANK."""
    from qgen import difficulty
    from qgen.bank import load_bank
    from qgen.publish import Options, write_exam_set
    from qgen.roster import load_roster

    if no_pdf and (fixed_layout or combined):
        raise click.UsageError("--fixed-layout and --combined need the PDFs; drop --no-pdf")
    if duplex and not combined:
        raise click.UsageError("--duplex pads the papers of --combined's PDFs; add --combined")
    bank = load_bank(bank_file)
    options = Options(roster=load_roster(roster) if roster else (), fixed_layout=fixed_layout,
                      answer_sheet=answer_sheet, qr=not no_qr, combined=combined, duplex=duplex)
    count = versions or bank.versions
    out = out or Path("build") / bank.exam_id
    labels = {"versions": "solving versions", "layout": "fixing the layout", "pdf": "compiling PDFs"}
    bars = {stage: _Bar(label, quiet) for stage, label in labels.items()}

    def progress(stage: str, n: int) -> None:
        bars[stage](n)

    result = write_exam_set(bank, [str(v) for v in range(1, count + 1)], out, make_pdf=not no_pdf, force=force,
                            jobs=jobs, timeout=timeout, options=options, progress=progress)
    for bar in bars.values():
        bar.close()
    for warning in result.warnings:  # a roster character no font has (printed as [?]): even with -q
        click.echo(f"Warning: {warning}", err=True)
    if not quiet:
        made = "PDFs and .tex" if result.pdfs else ".tex"
        click.echo(f"{len(result.versions)} versions ({made}) of {bank.exam_id!r} in {result.out}: "
                   f"exam-<v>, key-<v>, manifest.json, answers-template.csv")
        if result.students:
            click.echo(f"{len(result.students)} students' papers in {result.out / 'papers'}; "
                       f"who sits which version: roster-versions.csv")
        if result.layout.get("fixed") and result.pdfs:
            starts = ", ".join(f"Q{q} p.{page}" for q, page in result.layout["question_pages"].items())
            click.echo(f"fixed layout: {result.layout['exam_pages']} pages per exam; {starts}")
        for line in difficulty.report_lines(result.difficulty, width=78):
            click.echo("  " + line)


# the paths are checked by the commands (one-line errors), not by click (a usage message)
@main.command()
@click.argument("exam_dir", metavar="OUT_DIR", type=click.Path(path_type=Path))
@click.argument("answers", metavar="ANSWERS_CSV", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for grades.csv, gradebook.csv, report.html, feedback/ (default: OUT_DIR/grades); "
                   "replaced as a whole on every run.")
@click.option("--map", "mapping", type=click.Path(path_type=Path), default=None,
              help="YAML mapping of the answer file's headers to qgen's (an LMS export).")
@click.option("--roster", type=click.Path(path_type=Path), default=None,
              help="Roster CSV (plain id,name; or a Canvas, Moodle or Gradescope export): students with no graded "
                   "row are listed in absent.csv; names, Canvas ids and emails fill the LMS gradebooks.")
@click.option("--ecf", type=click.FloatRange(0, 1), default=None,
              help="Share of the credit for an answer right given the student's own earlier answers "
                   "(0: none; default: the bank's exam.ecf, else 1).")
@click.option("--gradebook", "gradebooks", type=click.Choice(["plain", "canvas", "moodle"]), multiple=True,
              help="Also write the gradebook for this LMS (repeat for both): canvas: gradebook-canvas.csv (Canvas's "
                   "Import grades layout), moodle: gradebook-moodle.csv. gradebook.csv (plain) is always written.")
@click.option("--assignment", default="", metavar="NAME",
              help="The grade column's name in the Canvas and Moodle gradebooks (default: the exam's title).")
@click.option("--assignment-id", default="", metavar="ID",
              help="Canvas's assignment id: the column is then 'NAME (ID)' and updates that assignment; "
                   "without it Canvas makes a new assignment NAME.")
@click.option("--moodle-id", type=click.Choice(["idnumber", "email", "username"]), default="idnumber",
              show_default=True,
              help="The field Moodle matches students on: ID number (the student id), or Email address / "
                   "Username from --roster.")
@click.option("--excel", is_flag=True,
              help="Write the gradebooks for Excel in a decimal-comma locale: ';' separated, BOM, CRLF, 12,5.")
@_quiet
def grade(exam_dir: Path, answers: Path, out: Path | None, mapping: Path | None, roster: Path | None,
          ecf: float | None, gradebooks: tuple[str, ...], assignment: str, assignment_id: str, moodle_id: str,
          excel: bool, quiet: bool) -> None:
    """Grade ANSWERS_CSV (typed answers, one row per student; - reads the standard input) against OUT_DIR's
    manifest.json."""
    from fractions import Fraction

    from qgen.grade.files import grade_files
    from qgen.grade.gradebook import Options as BookOptions

    book = BookOptions(formats=gradebooks or ("plain",), assignment=assignment.strip(),
                       assignment_id=assignment_id.strip(), moodle_id=moodle_id, excel=excel)
    bar = _Bar("grading rows", quiet)
    try:
        run = grade_files(exam_dir, answers, out or exam_dir / "grades", mapping=mapping, roster=roster,
                          ecf_credit=None if ecf is None else Fraction(ecf).limit_denominator(100), progress=bar,
                          gradebook=book)
    finally:
        bar.close()
    if quiet:
        if run.ta_problems:
            click.echo(f"Warning: {len(run.ta_problems)} TA scores not counted (see ta-problems.csv)", err=True)
        return
    statuses = Counter(g.status.split(":")[0] for g in run.graded)
    click.echo(f"{len(run.graded)} rows: " + ", ".join(f"{n} {s}" for s, n in statuses.most_common()))
    if run.missing:
        click.echo(f"columns missing (scored blank): {', '.join(run.missing[:8])}{' …' if len(run.missing) > 8 else ''}")
    if run.extra:
        click.echo(f"columns ignored: {', '.join(run.extra[:8])}{' …' if len(run.extra) > 8 else ''}")
    _grade_notes(run)
    if roster is not None:
        click.echo(f"absent (on the roster, not graded): {len(run.absent)}")
    if run.ta_problems:
        click.echo(f"TA scores not counted: {len(run.ta_problems)}")
        for problem in run.ta_problems[:10]:
            click.echo(f"  {problem}")
        if len(run.ta_problems) > 10:
            click.echo(f"  … {len(run.ta_problems) - 10} more (all of them in ta-problems.csv)")
    click.echo("wrote " + ", ".join(str(p) for p in run.files))


@main.command("sample-answers")
@click.argument("exam_dir", metavar="OUT_DIR", type=click.Path(path_type=Path))
@click.option("--students", type=click.IntRange(1, 100000), default=30, show_default=True,
              help="How many made-up students.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True, help="Seed of the made-up answers.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="The CSV to write (default: OUT_DIR/answers-sample.csv; - writes it to the standard output).")
@_quiet
def sample_answers(exam_dir: Path, students: int, seed: int, out: Path | None, quiet: bool) -> None:
    """Write a made-up class's answer sheet for OUT_DIR (right, blank, slipped answers): a demo for `qgen grade`."""
    from qgen.csvout import to_csv
    from qgen.grade.files import load_manifest
    from qgen.grade.simulate import sample_answers as rows_for
    from qgen.safe_write import write_file

    out = out or exam_dir / "answers-sample.csv"
    rows = rows_for(load_manifest(exam_dir), students, seed)
    if str(out) == "-":
        click.echo(to_csv(rows).encode("utf-8"), nl=False)  # bytes: written as they are
        _say(quiet, f"{len(rows) - 1} answer rows written to the standard output", err=True)
        return
    write_file(out, to_csv(rows))
    _say(quiet, f"{len(rows) - 1} answer rows in {out}")


@main.command()
@click.argument("bank_file", metavar="BANK", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--versions", type=click.IntRange(1, MAX_VERSIONS), default=None,
              help="How many versions to draw (default: the bank's exam.versions, at least 20).")
@_quiet
def check(bank_file: Path, versions: int | None, quiet: bool) -> None:
    """Validate BANK and draw its versions without rendering: constraint rejection rates and difficulty."""
    from qgen.bank import load_bank
    from qgen.check import dry_run, summary_lines

    bank = load_bank(bank_file)
    for line in summary_lines(dry_run(bank, versions or max(bank.versions, 20))):
        _say(quiet, line)


@main.command("export")
@click.argument("exam_dir", metavar="OUT_DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["moodle", "qti", "json"]), required=True,
              help="moodle: Moodle XML (a category per question, one question per version); qti: QTI 1.2 zip "
                   "for Canvas (one quiz per version); json: every part, for other tools.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The file to write (default: OUT_DIR/export/<exam id>.moodle.xml, .qti.zip or .export.json; "
                   "- writes it to the standard output).")
@_quiet
def export_cmd(exam_dir: Path, fmt: str, out: Path | None, quiet: bool) -> None:
    """Export OUT_DIR's auto-gradable parts (numbers, vectors, shapes, labels) for an LMS, from its manifest.json."""
    from qgen.export import export, export_folder, load_manifest

    if str(out) == "-":  # never a file named "-"
        result = export(load_manifest(exam_dir), fmt, where=str(Path(exam_dir) / "manifest.json"))
        click.echo(result.data, nl=False)  # bytes (a zip for qti)
        where, err = "the standard output", True
    else:
        path, result = export_folder(exam_dir, fmt, out)
        where, err = str(path), False
    _say(quiet, f"wrote {where}: " + "; ".join(result.summary), err=err)
    for note in result.notes:
        _say(quiet, f"  note: {note}", err=err)


@main.command("init")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@_quiet
def init_cmd(folder: Path, quiet: bool) -> None:
    """Start a course in DIR (new or empty): the example banks, pins/, an own family's folder and a roster."""
    from qgen.course import init_course

    written = init_course(folder)
    _say(quiet, f"{len(written)} files in {folder}: midterm.yaml, quiz.yaml, seeds.yaml, deep-learning.yaml, "
                f"course.yaml (with course-families/), pins/, roster-example.csv; "
                f"next: qgen generate {folder / 'quiz.yaml'} --out {folder / 'build' / 'quiz'}")


def _grade_notes(run) -> None:
    """What `qgen grade` says about the answer file's format, the manifest's columns and stray answers."""
    from qgen.grade.lms import describe

    if run.source != "qgen":
        click.echo(f"read as {describe(run.source)}")
    if not run.positional:
        click.echo("this manifest names answer columns by part id (an older qgen): graded so; run qgen generate "
                   "again for columns shared by every version")
    stray = [g for g in run.graded if g.note]
    if stray:
        click.echo(f"rows with answers in columns their version does not have (not graded): {len(stray)}")
        for g in stray[:10]:
            click.echo(f"  {g.student_id} (version {g.version}): {g.note}")
