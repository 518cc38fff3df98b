"""Cut compiled papers out of a batch PDF and draw each paper's own marks on them, without LaTeX.

LaTeX compiles a version once, many papers to a run (qgen.render.batch); what differs between the
copies of a version is drawn afterwards, straight into the PDF:

* a QR code on every page (`qr_operators`): one `re` per run of dark modules, in the corner where
  the template used to draw it (`qr_position`), the symbol being qgen.render.qr.matrix;
* a student's name, id, place and footer text: pieces of the student's page(s) of a "stamp" PDF
  (one LaTeX run for a whole roster, each field at the page position it belongs to on the paper),
  each stamp page made a Form XObject once and drawn on the paper's pages clipped to each `Piece`.

A page keeps its own content streams, resources and boxes; its content is wrapped in `q … Q` and
followed by a stream of its marks, so nothing it leaves in the graphics state moves them. In the
combined print file (`write_combined`) every base page is copied in once, and each paper's use of it
is a new page dictionary pointing at the same content streams and resources (with a resources
dictionary of its own only where it draws a stamp): 600 students on 50 versions cost the 50
versions' pages plus each page's small stream of marks, not 600 copies of the fonts.

pikepdf (qpdf) copies objects between files without decoding them: streams are written as they were
read (`StreamDecodeLevel.none`), and the marks are deflated here, so a paper is written at the speed
of its bytes (pypdf took 2.6x longer). Small objects go in object streams (smaller files, and no
slower to write); the file's /ID is a hash of its content, so the same papers give the same bytes.
The PDF objects are not picklable: run `write_papers` in worker processes with `Paper` lists (plain
frozen data), each call opening the sources it needs once.

Text extraction (pdftotext, a viewer's search) does not know about clipping: a page's text holds
the whole text of each stamp page drawn on it, once per piece (only the student's own fields).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf

from qgen.errors import RenderError
from qgen.render import qr

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points
MM = 72 / 25.4
QR_SIZE = 16 * MM  # the code's width; its right and bottom edges QR_MARGIN from the paper's
QR_MARGIN = 12 * MM
STAMP = "/QgenStamp"
_INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")  # page attributes a /Pages node may hold
_UNSHARED = ("/Annots", "/StructParents", "/B")  # one page's own: left off pages that share a base page
_DEFLATE_LEVEL = 6
_PDF_ERRORS = (pikepdf.PdfError, pikepdf.PasswordError, pikepdf.ForeignObjectError)  # pikepdf 8's have no common base


@dataclass(frozen=True)
class Piece:
    """A rectangle of a stamp page drawn on page `page` (0-based) of the paper, at the same place:
    x0, y0, x1, y1 in PDF points, page coordinates. The stamp page is page `stamp` (0-based) of the
    PDF `source` (None: the paper's stamp PDF), or, when None, the paper's own stamp page."""

    page: int
    rect: Rect
    stamp: int | None = None
    source: str | None = None


@dataclass(frozen=True)
class Paper:
    """One paper to write: pages first … first+count-1 (0-based) of `source`, one QR payload per page
    (`qr`, or none), and `pieces` of the PDF `stamp[0]`, of its page `stamp[1]` unless a piece names
    another (or no stamp)."""

    dest: str
    source: str
    first: int
    count: int
    title: str = ""
    qr: tuple[str, ...] = ()
    stamp: tuple[str, int] | None = None
    pieces: tuple[Piece, ...] = ()


# --- drawing ------------------------------------------------------------------------------------

def qr_position(page_width: float) -> tuple[float, float, float]:
    """(x, y, size) in points of the code on a page `page_width` wide: 16 mm wide, its right and
    bottom edges 12 mm from the page's (where the template's shipout hook put it)."""
    return page_width - QR_MARGIN - QR_SIZE, QR_MARGIN, QR_SIZE


def qr_operators(text: str, x: float, y: float, size: float) -> bytes:
    """Content-stream operators drawing `text`'s code `size` points wide with its bottom-left
    corner at (x, y): the symbol as an image mask of one bit per module (dark = 1), scaled by `cm`
    and painted black, in a few hundred bytes. A mask is drawn without smoothing (/I false), so
    every module prints as a sharp square at any size. No quiet zone: the paper is."""
    rows = qr.packed(text)
    n = len(rows)
    ops = (f"q 0 g {_number(size)} 0 0 {_number(size)} {_number(x)} {_number(y)} cm "
           f"BI /W {n} /H {n} /BPC 1 /IM true /D [1 0] /I false /F /AHx ID\n")
    return ops.encode("ascii") + b"".join(rows).hex().encode("ascii") + b">\nEI Q"


def clip_operators(rect: Rect, name: str = STAMP) -> bytes:
    """Draw the form XObject `name` clipped to `rect` (x0, y0, x1, y1), in page coordinates."""
    x0, y0, x1, y1 = rect
    return f"q {_number(x0)} {_number(y0)} {_number(x1 - x0)} {_number(y1 - y0)} re W n {name} Do Q".encode("ascii")


def _number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


# --- checking -----------------------------------------------------------------------------------

def check_paper(paper: Paper) -> None:
    """A RenderError naming the paper's file if its description cannot be right."""
    if paper.count < 1 or paper.first < 0:
        raise RenderError(f"{paper.dest}: pages {paper.first}+{paper.count} of {paper.source} is not a paper")
    if paper.qr and len(paper.qr) != paper.count:
        raise RenderError(f"{paper.dest}: {len(paper.qr)} QR codes for {paper.count} pages")
    if any(p.source is None or p.stamp is None for p in paper.pieces) and paper.stamp is None:
        raise RenderError(f"{paper.dest}: stamp pieces but no stamp page")
    for piece in paper.pieces:
        x0, y0, x1, y1 = piece.rect
        if not 0 <= piece.page < paper.count or x1 <= x0 or y1 <= y0 or (piece.stamp or 0) < 0:
            raise RenderError(f"{paper.dest}: stamp piece {piece} is not on the paper's {paper.count} pages")


# --- files --------------------------------------------------------------------------------------

class _Sources:
    """The source and stamp PDFs of one call, each opened once; stamp pages made forms once."""

    def __init__(self) -> None:
        self._pdfs: dict[str, Pdf] = {}
        self._forms: dict[tuple[str, int], pikepdf.Object] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        for pdf in self._pdfs.values():
            pdf.close()
        self._pdfs.clear()
        self._forms.clear()

    def pdf(self, path: str) -> Pdf:
        if path not in self._pdfs:
            try:
                self._pdfs[path] = pikepdf.open(path)
            except (OSError, *_PDF_ERRORS) as err:
                raise RenderError(f"{path}: cannot read the PDF ({err})") from None
        return self._pdfs[path]

    def page(self, path: str, index: int) -> pikepdf.Page:
        pages = self.pdf(path).pages
        if not 0 <= index < len(pages):
            raise RenderError(f"{path}: has {len(pages)} pages, no page {index + 1}")
        return pages[index]

    def form(self, path: str, index: int) -> pikepdf.Object:
        """Page `index` of `path` as a Form XObject (in that PDF; copy it into an output)."""
        key = (path, index)
        if key not in self._forms:
            self._forms[key] = self.page(path, index).as_form_xobject()
        return self._forms[key]


class _Output:
    """One PDF being written: base pages copied in once each, papers' pages made from them."""

    def __init__(self, sources: _Sources, *, shared: bool) -> None:
        self.pdf = pikepdf.new()
        self.sources = sources
        self.shared = shared  # base pages may be used by several pages of this output
        self._bases: dict[tuple[str, int], Dictionary] = {}
        self._forms: dict[tuple[str, int], pikepdf.Object] = {}
        self._push: pikepdf.Object | None = None
        self._version = "1.4"

    def add_paper(self, paper: Paper) -> Dictionary:
        """Append the paper's pages; return its last page."""
        by_page: dict[int, list[Piece]] = {}
        for piece in paper.pieces:
            by_page.setdefault(piece.page, []).append(piece)
        page = None
        for j in range(paper.count):
            base = self._base(paper.source, paper.first + j)
            draws, forms = self._stamps(base, paper.stamp, by_page.get(j, ()))
            page = self._page(base, self._marks(base, paper.qr[j] if paper.qr else None, draws), forms)
            self.pdf.pages.append(pikepdf.Page(page))
        assert page is not None
        return page

    def add_blank(self, like: Dictionary) -> None:
        """A blank page the size of `like`."""
        blank = Dictionary(Type=Name.Page, MediaBox=like.MediaBox, Resources=Dictionary())
        self.pdf.pages.append(pikepdf.Page(self.pdf.make_indirect(blank)))

    def save(self, dest: str, title: str = "") -> None:
        self.pdf.docinfo[Name.Creator] = "qgen"
        if title:
            self.pdf.docinfo[Name.Title] = title
        path = Path(dest)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.pdf.save(path, compress_streams=True, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                          object_stream_mode=pikepdf.ObjectStreamMode.generate, linearize=False,
                          fix_metadata_version=False, min_version=self._version, deterministic_id=True)
        except OSError as err:
            raise RenderError(f"{dest}: cannot write the PDF ({err})") from None

    def close(self) -> None:
        self.pdf.close()

    # -- base pages and stamps --------------------------------------------------------------

    def _base(self, source: str, index: int) -> Dictionary:
        """Page `index` of `source` copied in (not yet a page of the output), with its inherited
        attributes and its resources' sub-dictionaries as objects of their own, to be shared."""
        key = (source, index)
        if key not in self._bases:
            foreign = self.sources.page(source, index).obj
            base = self.pdf.copy_foreign(foreign)
            for name in _INHERITED:
                if name not in base and (value := _inherited(foreign, name)) is not None:
                    base[name] = _copy_in(self.pdf, value)
            if "/Resources" not in base:
                base.Resources = Dictionary()
            base.Resources = self._indirect(base.Resources)
            for name, value in list(base.Resources.items()):
                base.Resources[name] = self._indirect(value)
            self._version = max(self._version, str(self.sources.pdf(source).pdf_version), key=_version_key)
            self._bases[key] = base
        return self._bases[key]

    def _stamps(self, base: Dictionary, stamp: tuple[str, int] | None, pieces: Sequence[Piece],
                ) -> tuple[list[tuple[Rect, str]], dict[str, pikepdf.Object]]:
        """Each piece's rectangle with the name its stamp page's form has on this page, and the forms
        by name (names the base page's own XObjects do not use)."""
        if not pieces:
            return [], {}
        xobjects = base.Resources.get("/XObject")
        taken = set(xobjects.keys()) if xobjects is not None else set()
        names: dict[tuple[str, int], str] = {}
        forms: dict[str, pikepdf.Object] = {}
        draws = []
        for piece in pieces:
            path = piece.source or stamp[0]  # type: ignore[index]  (check_paper: one of them is there)
            key = (path, stamp[1] if piece.stamp is None else piece.stamp)  # type: ignore[index]
            if key not in names:
                names[key] = _free_name(taken | forms.keys())
                forms[names[key]] = self._form(*key)
            draws.append((piece.rect, names[key]))
        return draws, forms

    def _form(self, path: str, index: int) -> pikepdf.Object:
        key = (path, index)
        if key not in self._forms:
            self._forms[key] = self.pdf.copy_foreign(self.sources.form(path, index))
        return self._forms[key]

    def _indirect(self, value: pikepdf.Object) -> pikepdf.Object:
        if isinstance(value, (Dictionary, Array)) and not value.is_indirect:
            return self.pdf.make_indirect(value)
        return value

    # -- pages ------------------------------------------------------------------------------

    def _marks(self, base: Dictionary, code: str | None,
               draws: Sequence[tuple[Rect, str]]) -> bytes:
        """The stream drawn over a page: its stamp pieces (rectangle, form name), then its QR code."""
        parts = [clip_operators(rect, name) for rect, name in draws]
        if code is not None:
            x0, y0, x1, _ = (float(v) for v in base.MediaBox)
            x, y, size = qr_position(x1 - x0)
            parts.append(qr_operators(code, x0 + x, y0 + y, size))
        return b"\n".join(parts)

    def _page(self, base: Dictionary, marks: bytes, forms: dict[str, pikepdf.Object]) -> Dictionary:
        """A page dictionary drawing `base` then `marks`, sharing base's content and resources."""
        page = Dictionary({name: value for name, value in base.items()
                           if not (self.shared and name in _UNSHARED)})
        if marks:
            overlay = pikepdf.Stream(self.pdf, zlib.compress(b"Q\n" + marks, _DEFLATE_LEVEL))
            overlay.Filter = Name.FlateDecode
            page.Contents = Array([self._save_state(), *_streams(base), overlay])
        if forms:
            page.Resources = _with_xobjects(base.Resources, forms)
        return self.pdf.make_indirect(page)

    def _save_state(self) -> pikepdf.Object:
        """The one `q` stream every marked page starts with (its marks' stream starts with `Q`)."""
        if self._push is None:
            self._push = pikepdf.Stream(self.pdf, b"q\n")
        return self._push


def _streams(page: Dictionary) -> list[pikepdf.Object]:
    contents = page.get("/Contents")
    if contents is None:
        return []
    return list(contents) if isinstance(contents, Array) else [contents]


def _with_xobjects(resources: Dictionary, forms: dict[str, pikepdf.Object]) -> Dictionary:
    """A new resources dictionary: `resources`' entries (the same objects) and the XObjects `forms`.
    The shared resources are not touched: the other papers' pages use them as they are."""
    fresh = Dictionary({key: value for key, value in resources.items()})
    xobjects = resources.get("/XObject")
    entries = {key: value for key, value in xobjects.items()} if xobjects is not None else {}
    fresh.XObject = Dictionary({**entries, **forms})
    return fresh


def _free_name(taken: set[str]) -> str:
    """STAMP, or STAMP with the smallest number making it a name not `taken`."""
    return next(name for n in range(len(taken) + 1) if (name := f"{STAMP}{n or ''}") not in taken)


def _inherited(page: pikepdf.Object, name: str) -> pikepdf.Object | None:
    node: pikepdf.Object | None = page
    for _ in range(64):  # a /Parent loop in a broken file ends here
        if node is None:
            return None
        if name in node:
            return node[name]
        node = node.get("/Parent")
    return None


def _copy_in(pdf: Pdf, value: pikepdf.Object) -> pikepdf.Object:
    """A foreign object, or a direct one holding foreign references, made `pdf`'s."""
    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return pdf.copy_foreign(value)
    if isinstance(value, Dictionary):
        return Dictionary({key: _copy_in(pdf, item) for key, item in value.items()})
    if isinstance(value, Array):
        return Array([_copy_in(pdf, item) for item in value])
    return value


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


# --- writing ------------------------------------------------------------------------------------

def write_papers(papers: Sequence[Paper]) -> None:
    """Each paper as its own PDF at its `dest`: its pages from its source with its QR codes and
    stamp pieces drawn on. Sources and stamp PDFs are opened once per call."""
    for paper in papers:
        check_paper(paper)
    with _Sources() as sources:
        for paper in papers:
            out = _Output(sources, shared=False)
            try:
                out.add_paper(paper)
                out.save(paper.dest, paper.title)
            except _PDF_ERRORS as err:
                raise RenderError(f"{paper.dest}: cannot make it from {paper.source}: {err}") from None
            finally:
                out.close()


def write_combined(papers: Sequence[Paper], dest: str, *, duplex: bool = False, title: str = "") -> int:
    """All `papers` in order in one PDF at `dest` (their own `dest` is not used); with `duplex`, a
    blank page after each paper with an odd page count. Each base page and each stamp page is in
    the file once, whatever the number of papers using it. Returns the file's page count."""
    for paper in papers:
        check_paper(paper)
    with _Sources() as sources:
        out = _Output(sources, shared=True)
        try:
            for paper in papers:
                last = out.add_paper(paper)
                if duplex and paper.count % 2:
                    out.add_blank(last)
            count = len(out.pdf.pages)
            out.save(dest, title)
        except _PDF_ERRORS as err:
            raise RenderError(f"{dest}: cannot make it from {sorted({p.source for p in papers})}: {err}") from None
        finally:
            out.close()
    return count

