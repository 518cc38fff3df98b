"""Which TeX engine an exam set needs, from its text (pure, apart from looking for font files).

pdflatex (T1 + lmodern + utf8 inputenc) prints ASCII, Latin-1, most of Latin Extended-A and some
punctuation (`PDFLATEX_RANGES`, measured by compiling every character the loaded .dfu files
declare). A set whose LaTeX has any other character (a name in Chinese, Hebrew, Vietnamese, an
emoji) is compiled with LuaLaTeX instead: fontspec with Latin Modern as the main font, and a
luaotfload fallback chain of Debian's Noto fonts (only the scripts the text uses), shaped by
HarfBuzz; Hebrew and Arabic go through babel's bidi=basic, so they read right to left.

>>> engine_for(["Søren O'Brien", "Łukasz"])
'pdflatex'
>>> engine_for(["Nguy\\u1ec5n V\\u0103n Anh"])
'lualatex'
>>> sorted(groups_in("张伟 דוד"))
['cjk', 'hebrew']
"""

from __future__ import annotations

import functools
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PDFLATEX = "pdflatex"
LUALATEX = "lualatex"

# Characters pdflatex prints with the preamble of document.tex.j2, besides printable ASCII.
PDFLATEX_RANGES = (
    (0x00A0, 0x0125), (0x0128, 0x0137), (0x0139, 0x013E), (0x0141, 0x0148), (0x014A, 0x0165),
    (0x0168, 0x017E), (0x0192, 0x0192), (0x01C4, 0x01D4), (0x01E2, 0x01E3), (0x01E6, 0x01EB),
    (0x01F0, 0x01F0), (0x01F4, 0x01F5), (0x0218, 0x021B), (0x0232, 0x0233), (0x0237, 0x0237),
    (0x02C6, 0x02C7), (0x02D8, 0x02D9), (0x02DB, 0x02DD), (0x1E02, 0x1E03), (0x1E0D, 0x1E0D),
    (0x1E1E, 0x1E21), (0x1E25, 0x1E25), (0x1E30, 0x1E31), (0x1E37, 0x1E37), (0x1E43, 0x1E43),
    (0x1E45, 0x1E45), (0x1E47, 0x1E47), (0x1E5B, 0x1E5B), (0x1E63, 0x1E63), (0x1E6D, 0x1E6D),
    (0x1E8E, 0x1E91), (0x1E9E, 0x1E9E), (0x1EF2, 0x1EF3), (0x2010, 0x2016), (0x2018, 0x201A),
    (0x201C, 0x201E), (0x2020, 0x2022), (0x2026, 0x2026), (0x2030, 0x2031), (0x2039, 0x203B),
    (0x203D, 0x203D), (0x2044, 0x2044), (0x204E, 0x204E), (0x2052, 0x2052), (0x20A1, 0x20A1),
    (0x20A4, 0x20A4), (0x20A6, 0x20A6), (0x20A9, 0x20A9), (0x20AB, 0x20AC), (0x20B1, 0x20B1),
    (0x2103, 0x2103), (0x2116, 0x2117), (0x211E, 0x211E), (0x2120, 0x2120), (0x2122, 0x2122),
    (0x2126, 0x2127), (0x212E, 0x212E), (0x2190, 0x2193), (0x2329, 0x232A), (0x2422, 0x2423),
    (0x25E6, 0x25E6), (0x25EF, 0x25EF), (0x266A, 0x266A), (0x27E8, 0x27E9), (0x3008, 0x3009),
    (0xFB00, 0xFB06),
)


@dataclass(frozen=True)
class Script:
    """A group of characters LuaLaTeX prints with one Noto font (`font`, a fontconfig family
    name; `file`, its file; `package`, the Debian package that has it)."""

    name: str
    font: str
    file: str
    package: str
    ranges: tuple[tuple[int, int], ...]
    babel: str = ""  # a right-to-left script: the babel language that sets its direction


SCRIPTS = (
    # Latin Modern (the main font) has Latin and Vietnamese; Noto Serif adds Greek, Cyrillic,
    # IPA, combining marks and the rest of Latin.
    Script("latin-greek-cyrillic", "Noto Serif", "NotoSerif-Regular.ttf", "fonts-noto-core",
           ((0x0080, 0x052F), (0x1C80, 0x1C8F), (0x1D00, 0x1DBF), (0x1DC0, 0x1DFF), (0x1E00, 0x1FFF),
            (0x2000, 0x20CF), (0x2100, 0x214F), (0x2C60, 0x2C7F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F),
            (0xA720, 0xA7FF), (0xAB30, 0xAB6F))),
    Script("hebrew", "Noto Serif Hebrew", "NotoSerifHebrew-Regular.ttf", "fonts-noto-core",
           ((0x0590, 0x05FF), (0xFB1D, 0xFB4F)), babel="hebrew"),
    Script("arabic", "Noto Naskh Arabic", "NotoNaskhArabic-Regular.ttf", "fonts-noto-core",
           ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFE)),
           babel="arabic"),
    Script("devanagari", "Noto Serif Devanagari", "NotoSerifDevanagari-Regular.ttf", "fonts-noto-core",
           ((0x0900, 0x097F), (0xA8E0, 0xA8FF))),
    Script("thai", "Noto Serif Thai", "NotoSerifThai-Regular.ttf", "fonts-noto-core", ((0x0E00, 0x0E7F),)),
    Script("cjk", "Noto Sans CJK SC", "NotoSansCJK-Regular.ttc", "fonts-noto-cjk",
           ((0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3000, 0x33FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
            (0xA960, 0xA97F), (0xAC00, 0xD7FF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF),
            (0x20000, 0x2FA1F))),
    Script("emoji", "Noto Color Emoji", "NotoColorEmoji.ttf", "fonts-noto-color-emoji",
           ((0x200D, 0x200D), (0x2190, 0x21FF), (0x2300, 0x23FF), (0x2460, 0x24FF), (0x25A0, 0x27BF),
            (0x2900, 0x297F), (0x2B00, 0x2BFF), (0x3030, 0x3030), (0xFE0F, 0xFE0F), (0x1F000, 0x1FAFF),
            (0xE0020, 0xE007F))),
)
LUALATEX_PACKAGE = "texlive-luatex"
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
# Bidi marks, zero-width joiners and the like: printed by LuaLaTeX as nothing at all.
_INVISIBLE = {0x200B, 0x200C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068,
              0x2069, 0xFEFF}


def _within(code: int, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(low <= code <= high for low, high in ranges)


@functools.lru_cache(maxsize=4096)
def pdflatex_prints(char: str) -> bool:
    """Whether pdflatex with the document template's preamble prints `char` (in text)."""
    code = ord(char)
    return 0x20 <= code < 0x7F or char in "\n\t\r" or _within(code, PDFLATEX_RANGES)


@functools.lru_cache(maxsize=4096)
def script_of(char: str) -> Script | None:
    """The Noto script group that prints `char` under LuaLaTeX (None: pdflatex's own, or none)."""
    if pdflatex_prints(char) or ord(char) in _INVISIBLE:
        return None
    return next((s for s in SCRIPTS if _within(ord(char), s.ranges)), None)


def printable(char: str) -> bool:
    """Whether some engine qgen uses prints `char` (pdflatex's set, or a Noto script group)."""
    return pdflatex_prints(char) or ord(char) in _INVISIBLE or script_of(char) is not None


def unprintable(text: str) -> list[str]:
    """The characters of `text` no engine prints (in order, once each)."""
    return list(dict.fromkeys(c for c in text if not printable(c)))


def first_beyond_pdflatex(text: str) -> str | None:
    """The first character of `text` pdflatex cannot print, or None."""
    return next((c for c in text if not pdflatex_prints(c)), None)


def engine_for(texts: Iterable[str]) -> str:
    """"pdflatex" when it prints every character of `texts` (NFC), else "lualatex"."""
    return LUALATEX if any(first_beyond_pdflatex(unicodedata.normalize("NFC", t)) for t in texts) else PDFLATEX


def groups_in(text: str) -> set[str]:
    """The names of the script groups `text` needs under LuaLaTeX."""
    return {s.name for c in set(text) if (s := script_of(c)) is not None}


def describe(char: str) -> str:
    """'ễ' (U+1EC5 LATIN SMALL LETTER E WITH CIRCUMFLEX AND TILDE)."""
    return f"{char!r} (U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')})"


def missing_fonts(groups: Iterable[str]) -> list[Script]:
    """The script groups whose Noto font file is in none of the usual font folders."""
    wanted = [s for s in SCRIPTS if s.name in set(groups)]
    if not wanted:
        return []
    have = _font_files()
    return [s for s in wanted if s.file not in have]


def _font_files() -> set[str]:
    names: set[str] = set()
    for folder in FONT_DIRS:
        for _, _, files in os.walk(Path(folder).expanduser()):
            names.update(files)
    return names


def packages_for(groups: Iterable[str]) -> list[str]:
    """The Debian packages LuaLaTeX needs for `groups`: texlive-luatex and their fonts."""
    return [LUALATEX_PACKAGE, *dict.fromkeys(s.package for s in SCRIPTS if s.name in set(groups))]


def font_setup(groups: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """What document.tex.j2's LuaLaTeX preamble needs: the fallback fonts (in SCRIPTS order) and
    the right-to-left scripts (babel language and font)."""
    used = [s for s in SCRIPTS if s.name in set(groups)]
    return {"fallback": [{"name": s.name, "font": s.font} for s in used],
            "rtl": [{"language": s.babel, "font": s.font} for s in used if s.babel]}
