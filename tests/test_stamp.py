"""qgen.render.stamp: papers cut from a batch PDF with QR codes and stamp pieces drawn on, and the
combined print file sharing its base pages. The PDFs are built here with pikepdf (Helvetica, no
LaTeX); what a page shows is read back with poppler (pdftoppm, pdftotext) and zxing-cpp."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Dictionary, Name

from qgen.errors import RenderError
from qgen.render import qr, stamp
from qgen.render.stamp import Paper, Piece
from tests.conftest import needs_pdftotext

needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")

A4 = (595.276, 841.89)
DPI = 150
NAME_RECT = (90.0, 690.0, 300.0, 720.0)  # around the stamp's name; its "SECRET" line is outside every piece
FOOT_RECT = (50.0, 30.0, 250.0, 60.0)


def _text(x: float, y: float, text: str, size: int = 12) -> bytes:
    return f"BT /F1 {size} Tf {x} {y} Td ({text}) Tj ET\n".encode()


def _pdf(path: Path, pages: list[bytes], box: tuple[float, float, float, float] = (0, 0, *A4)) -> Path:
    """A PDF whose pages share one font and one resources dictionary, like a LaTeX batch's."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    resources = pdf.make_indirect(Dictionary(Font=Dictionary(F1=font)))
    for content in pages:
        page = Dictionary(Type=Name.Page, MediaBox=list(box), Resources=resources,
                          Contents=pdf.make_stream(content))
        pdf.pages.append(pikepdf.Page(pdf.make_indirect(page)))
    pdf.save(path)
    return path


def _batch(tmp_path: Path, count: int = 3, box: tuple[float, float, float, float] = (0, 0, *A4)) -> Path:
    """`count` pages, each weighing some 10 kB like a page of LaTeX (a comment of random hex digits), and each
    leaving a translation in force (no q/Q), which must not move what is drawn after it."""
    noise = random.Random(0)
    return _pdf(tmp_path / "batch.pdf", [b"1 0 0 1 40 40 cm\n" + _text(72, 600, f"Base page {i}")
                                         + b"%" + f"{noise.getrandbits(80_000):x}".encode() + b"\n"
                                         for i in range(count)], box)


def _stamps(tmp_path: Path, students: int) -> Path:
    return _pdf(tmp_path / "stamps.pdf", [_text(100, 700, f"NAME{k}") + _text(100, 400, f"SECRET{k}", 30)
                                          + _text(60, 40, f"FOOT{k}") for k in range(students)])


def _render(pdf: Path, folder: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


def _pages_text(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


def _ink(image, rect: tuple[float, float, float, float], height: float) -> int:
    """Dark pixels of a page image inside `rect` (PDF points, origin bottom left)."""
    x0, y0, x1, y1 = (v * DPI / 72 for v in rect)
    top = height * DPI / 72
    box = image.convert("L").crop((int(x0), int(top - y1), int(x1), int(top - y0)))
    return sum(box.histogram()[:128])


# --- the code's drawing (no PDF) -----------------------------------------------------------------

def test_qr_position_is_the_templates_corner():
    x, y, size = stamp.qr_position(A4[0])
    mm = 72 / 25.4
    assert (x, y, size) == pytest.approx((A4[0] - 28 * mm, 12 * mm, 16 * mm))
    assert x + size == pytest.approx(A4[0] - 12 * mm)


def test_qr_operators_paint_exactly_the_dark_modules():
    text = qr.payload("ml-midterm", "3", page=2, student="O'Brien")
    ops = stamp.qr_operators(text, 10, 20, 45).decode()
    assert ops.startswith("q 0 g ") and ops.endswith("EI Q")
    modules = qr.matrix(text)
    n = len(modules)
    size, x, y = (float(v) for v in re.match(r"q 0 g (\S+) 0 0 \S+ (\S+) (\S+) cm", ops).groups())
    assert (size, x, y) == pytest.approx((45, 10, 20), abs=1e-3)
    assert f"/W {n} /H {n} /BPC 1 /IM true /D [1 0]" in ops
    data = bytes.fromhex(re.search(r"ID\n([0-9a-f]*)>", ops)[1])
    width = (n + 7) // 8
    bits = [[bool(data[r * width + c // 8] >> (7 - c % 8) & 1) for c in range(n)] for r in range(n)]
    assert bits == [list(row) for row in modules]

def test_every_page_carries_its_own_code_in_the_corner(tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    box = (10.0, 20.0, 622.0, 812.0)  # a letter page whose media box does not start at 0 0
    source = _batch(tmp_path, 4, box)
    codes = tuple(qr.payload("ml-mid", "7", page=n, student="s-42/ä") for n in (1, 2))
    dest = tmp_path / "out" / "paper.pdf"
    stamp.write_papers([Paper(dest=str(dest), source=str(source), first=2, count=2, qr=codes)])
    images = _render(dest, tmp_path)
    assert len(images) == 2
    width, height = box[2] - box[0], box[3] - box[1]
    x, y, _ = stamp.qr_position(width)
    for image, code in zip(images, codes):
        found = zxingcpp.read_barcodes(Image.open(image))
        assert [r.text for r in found] == [code]
        left, bottom = found[0].position.bottom_left.x, found[0].position.bottom_left.y
        assert left == pytest.approx(x * DPI / 72, abs=3)
        assert bottom == pytest.approx((height - y) * DPI / 72, abs=3)
    with pikepdf.open(dest) as pdf:
        assert [list(map(float, p.mediabox)) for p in pdf.pages] == [list(box)] * 2


@needs_pdftoppm
@needs_pdftotext
def test_stamp_pieces_show_inside_their_rectangles_only(tmp_path):
    from PIL import Image

    source, stamps = _batch(tmp_path, 2), _stamps(tmp_path, 3)
    pieces = (Piece(0, NAME_RECT), Piece(0, FOOT_RECT), Piece(1, FOOT_RECT))
    dest = tmp_path / "paper.pdf"
    stamp.write_papers([Paper(dest=str(dest), source=str(source), first=0, count=2, stamp=(str(stamps), 2),
                              pieces=pieces)])
    first, second = (Image.open(p) for p in _render(dest, tmp_path))
    secret = (100, 390, 300, 430)
    assert _ink(first, NAME_RECT, A4[1]) > 50 and _ink(first, FOOT_RECT, A4[1]) > 20
    assert _ink(first, secret, A4[1]) == 0 and _ink(second, secret, A4[1]) == 0
    assert _ink(second, FOOT_RECT, A4[1]) > 20 and _ink(second, NAME_RECT, A4[1]) == 0
    texts = _pages_text(dest)
    assert "Base page 0" in texts[0] and "Base page 1" in texts[1]
    assert "NAME2" in texts[0] and "FOOT2" in texts[1]  # the stamp is the student's own page


def test_the_batchs_shared_resources_are_left_alone(tmp_path):
    source, stamps = _batch(tmp_path, 2), _stamps(tmp_path, 1)
    dest = tmp_path / "paper.pdf"
    stamp.write_papers([Paper(dest=str(dest), source=str(source), first=0, count=2, stamp=(str(stamps), 0),
                              pieces=(Piece(0, NAME_RECT),), title="Midterm: Ada, version 3")])
    with pikepdf.open(dest) as pdf:
        first, second = (p.obj.Resources for p in pdf.pages)
        assert stamp.STAMP in first.XObject and "/XObject" not in second
        assert first.Font.objgen == second.Font.objgen  # one font dictionary for both pages
        assert str(pdf.docinfo.Title) == "Midterm: Ada, version 3" and str(pdf.docinfo.Creator) == "qgen"


@needs_pdftoppm
@needs_pdftotext
def test_pieces_may_come_from_several_stamp_pages(tmp_path):
    """A student's stamp pages (cover, later pages): each piece names its own, several on one page."""
    from PIL import Image

    source, stamps = _batch(tmp_path, 2), _stamps(tmp_path, 4)
    with pikepdf.open(source, allow_overwriting_input=True) as pdf:  # the base pages have a /QgenStamp of their own
        pdf.pages[0].obj.Resources.XObject = Dictionary({stamp.STAMP: pdf.make_stream(b"", Type=Name.XObject,
                                                         Subtype=Name.Form, BBox=[0, 0, 1, 1])})
        pdf.save(source)
    pieces = (Piece(0, NAME_RECT), Piece(0, FOOT_RECT, stamp=3), Piece(1, FOOT_RECT, stamp=3))
    dest = tmp_path / "paper.pdf"
    stamp.write_papers([Paper(dest=str(dest), source=str(source), first=0, count=2, stamp=(str(stamps), 2),
                              pieces=pieces)])
    with pikepdf.open(dest) as pdf:
        first, second = (p.obj.Resources.XObject for p in pdf.pages)
        assert set(first.keys()) == {stamp.STAMP, stamp.STAMP + "1", stamp.STAMP + "2"}
        assert set(second.keys()) == {stamp.STAMP, stamp.STAMP + "1"}
        assert first[stamp.STAMP].objgen == second[stamp.STAMP].objgen  # the base page's own, kept
        assert first[stamp.STAMP + "2"].objgen == second[stamp.STAMP + "1"].objgen  # stamp page 3, once
    assert [set(text.split()) for text in _pages_text(dest)] == [  # text ignores clipping: whole stamp pages
        {"Base", "page", "0", "NAME2", "SECRET2", "FOOT2", "NAME3", "SECRET3", "FOOT3"},
        {"Base", "page", "1", "NAME3", "SECRET3", "FOOT3"}]
    first, second = (Image.open(p) for p in _render(dest, tmp_path))
    assert _ink(first, NAME_RECT, A4[1]) > 50 and _ink(second, NAME_RECT, A4[1]) == 0


def test_a_paper_without_codes_or_stamp_is_its_pages(tmp_path):
    source = _batch(tmp_path, 3)
    dest = tmp_path / "plain.pdf"
    stamp.write_papers([Paper(dest=str(dest), source=str(source), first=1, count=2)])
    with pikepdf.open(dest) as pdf, pikepdf.open(source) as src:
        assert [p.obj.Contents.read_bytes() for p in pdf.pages] == [p.obj.Contents.read_bytes()
                                                                    for p in src.pages[1:]]
        assert "/Title" not in pdf.docinfo


# --- the combined print file ---------------------------------------------------------------------

def _class(tmp_path: Path, students: int, pages: int = 3) -> list[Paper]:
    source, stamps = _batch(tmp_path, pages), _stamps(tmp_path, students)
    return [Paper(dest=str(tmp_path / f"p{k}.pdf"), source=str(source), first=0, count=pages,
                  qr=tuple(qr.payload("mid", "1", page=n + 1, student=f"s{k}") for n in range(pages)),
                  stamp=(str(stamps), k), pieces=(Piece(0, NAME_RECT), *(Piece(n, FOOT_RECT) for n in range(pages))))
            for k in range(students)]


def test_combined_file_holds_each_base_page_once(tmp_path):
    papers = _class(tmp_path, 10)
    dest = tmp_path / "all.pdf"
    assert stamp.write_combined(papers, str(dest)) == 30
    with pikepdf.open(dest) as pdf:
        pages = [p.obj for p in pdf.pages]
        base_streams = {page.Contents[1].objgen for page in pages}  # [shared q, base content, own marks]
        assert len(base_streams) == 3
        assert len({page.Contents[-1].objgen for page in pages}) == 30
        assert len({page.Contents[0].objgen for page in pages}) == 1
        assert len({page.Resources.Font.objgen for page in pages}) == 1
        assert len({page.Resources.XObject[stamp.STAMP].objgen for page in pages}) == 10
        fonts = [o for o in pdf.objects if isinstance(o, Dictionary) and o.get("/Type") == Name.Font]
        assert len(fonts) == 2  # the batch's and the stamps'
    one = tmp_path / "one.pdf"
    stamp.write_combined(papers[:1], str(one))
    assert dest.stat().st_size < 2 * one.stat().st_size  # not 10 copies of the pages


def test_combined_pages_are_the_papers_pages(tmp_path):
    papers = _class(tmp_path, 3, pages=2)
    dest = tmp_path / "all.pdf"
    stamp.write_combined(papers, str(dest))
    stamp.write_papers(papers)
    with pikepdf.open(dest) as combined:
        marks = [p.obj.Contents[-1].read_bytes() for p in combined.pages]
    alone = []
    for paper in papers:
        with pikepdf.open(paper.dest) as pdf:
            alone += [p.obj.Contents[-1].read_bytes() for p in pdf.pages]
    assert marks == alone


def test_duplex_pads_odd_papers_with_a_blank_page(tmp_path):
    source = _batch(tmp_path, 5, (0, 0, 612, 792))
    papers = [Paper(dest="", source=str(source), first=0, count=3),
              Paper(dest="", source=str(source), first=3, count=2)]
    assert stamp.write_combined(papers, str(tmp_path / "simplex.pdf")) == 5
    dest = tmp_path / "duplex.pdf"
    assert stamp.write_combined(papers, str(dest), duplex=True, title="All papers") == 6
    with pikepdf.open(dest) as pdf:
        blank = pdf.pages[3]
        assert "/Contents" not in blank.obj and list(map(float, blank.mediabox)) == [0, 0, 612, 792]
        assert str(pdf.docinfo.Title) == "All papers"


# --- errors name the file ------------------------------------------------------------------------

def test_bad_papers_are_render_errors_naming_the_file(tmp_path):
    source = _batch(tmp_path, 2)
    with pytest.raises(RenderError, match="nowhere.pdf"):
        stamp.write_papers([Paper(dest=str(tmp_path / "a.pdf"), source=str(tmp_path / "nowhere.pdf"), first=0,
                                  count=1)])
    with pytest.raises(RenderError, match=r"batch\.pdf: has 2 pages"):
        stamp.write_papers([Paper(dest=str(tmp_path / "a.pdf"), source=str(source), first=1, count=2)])
    with pytest.raises(RenderError, match=r"b\.pdf: 1 QR codes for 2 pages"):
        stamp.write_papers([Paper(dest=str(tmp_path / "b.pdf"), source=str(source), first=0, count=2, qr=("x",))])
    with pytest.raises(RenderError, match=r"c\.pdf: stamp piece"):
        stamp.write_combined([Paper(dest=str(tmp_path / "c.pdf"), source=str(source), first=0, count=2,
                                    stamp=(str(source), 0), pieces=(Piece(2, FOOT_RECT),))], str(tmp_path / "all.pdf"))
