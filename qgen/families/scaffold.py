"""`qgen family new NAME`: a runnable start for a course's own family.

It writes, under a course folder (the current folder by default):

    families/<module>.py        the family: one sigmoid neuron, its Trace, parts and fairness constraints
    families/<name>.tex.j2      its statement template
    <name>.yaml                 a bank that loads families/ and asks the family
    tests/test_<module>.py      its test: gradients against finite differences, fair versions, the bank builds

Nothing is overwritten: a file already there is a one-line error naming it.
"""

from __future__ import annotations

from pathlib import Path

from qgen.errors import QgenError
from qgen.families import INDEX
from qgen.families.course import MAX_NAME, NAME
from qgen.resources import templates_dir


def files(name: str) -> dict[str, str]:
    """Relative path -> text of the scaffold of family `name` (checked: a new, well-formed name)."""
    if not NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise QgenError(f"{name!r}: a family's name is lower-case letters, digits and single hyphens, at most "
                        f"{MAX_NAME} characters, starting with a letter (e.g. softmax-step)")
    if name in INDEX:
        raise QgenError(f"{name!r} is one of qgen's own families; choose another name")
    module = name.replace("-", "_")
    words = {"@NAME@": name, "@MODULE@": module, "@CLASS@": "".join(w.title() for w in name.split("-")),
             "@TITLE@": f"Course family {name}"}
    source = templates_dir() / "scaffold"

    def fill(template: str) -> str:
        text = (source / template).read_text(encoding="utf-8")
        for placeholder, value in words.items():
            text = text.replace(placeholder, value)
        return text

    return {f"families/{module}.py": fill("family.py.txt"), f"families/{name}.tex.j2": fill("template.tex.j2.txt"),
            f"{name}.yaml": fill("bank.yaml.txt"), f"tests/test_{module}.py": fill("test.py.txt")}


def write(name: str, folder: Path) -> list[Path]:
    """Write the scaffold of `name` under `folder`; the paths written (nothing is replaced)."""
    texts = files(name)
    taken = [folder / rel for rel in texts if (folder / rel).exists()]
    if taken:
        raise QgenError(f"{taken[0]}: already exists; `qgen family new` never overwrites a file: choose another "
                        "name or --dir, or move it away")
    written = []
    for rel, text in texts.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
