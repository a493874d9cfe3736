"""What the page shows: a signed PDF revision compared with the final document, as rendered and as text.

pyhanko's difference analysis judges the objects an update touched; a crafted update can pass it
(a "form fill" whose appearance paints over the page) while the reader sees another document.
This module asks poppler — ``pdftoppm`` renders each page, ``pdftotext`` extracts its text — and
compares twice: the page content alone (annotations hidden) and the page as shown (with form fields
and annotations). A difference in the first is a change of the document; a difference only in the
second comes from fields or annotations. Each tool runs as a bounded subprocess in a private
temporary directory; a file too large or a tool that fails is reported as "not compared".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from signing.messages import said

DPI = 36  # enough to see a replaced line of text, cheap per page
MAX_PAGES = 40
TIMEOUT_SECONDS = 60.0
PIXEL_TOLERANCE = 48  # grey levels: anti-aliasing noise stays below, a glyph or a box does not


class NotCompared(Exception):
    """poppler is missing, timed out or could not read a revision; the message says which."""


@dataclass
class VisualDiff:
    """Pages (numbered from 1) that differ between the signed revision and the final document."""

    content_pages: list[int] = field(default_factory=list)  # page content itself (annotations hidden)
    shown_pages: list[int] = field(default_factory=list)  # as displayed, fields and annotations included
    text_changes: list[int] = field(default_factory=list)  # pages whose extracted text differs
    pages: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.content_pages or self.shown_pages or self.text_changes)

    def describe(self) -> str:
        parts = []
        if self.content_pages:
            parts.append(said("visual.content", pages=_pages(self.content_pages)))
        if self.shown_pages and self.shown_pages != self.content_pages:
            parts.append(said("visual.rendering", pages=_pages(self.shown_pages)))
        if self.text_changes:  # which pages, never the words: a document's text may name a citizen
            parts.append(said("visual.text", pages=_pages(self.text_changes)))
        return "; ".join(parts)


def _pages(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers))


def available() -> bool:
    return shutil.which("pdftoppm") is not None and shutil.which("pdftotext") is not None


def compare(signed_revision: bytes, final: bytes, *, dpi: int = DPI, max_pages: int = MAX_PAGES,
            timeout: float = TIMEOUT_SECONDS) -> VisualDiff:
    """Renders and reads both documents (up to ``max_pages`` pages) and says where they differ."""
    if not available():
        raise NotCompared(said("visual.no_poppler"))
    with tempfile.TemporaryDirectory(prefix="pdf-visual-") as work:
        root = Path(work)
        (root / "signed.pdf").write_bytes(signed_revision)
        (root / "final.pdf").write_bytes(final)
        diff = VisualDiff()
        shown_before = _render(root, "signed", dpi, max_pages, timeout, hide_annotations=False)
        shown_after = _render(root, "final", dpi, max_pages, timeout, hide_annotations=False)
        diff.pages = max(len(shown_before), len(shown_after))
        diff.shown_pages = _differing(shown_before, shown_after)
        text_before = _text(root, "signed", max_pages, timeout)
        text_after = _text(root, "final", max_pages, timeout)
        diff.text_changes = _text_changes(text_before, text_after)
        if diff.shown_pages:  # only then is it worth telling content from fields and annotations
            diff.content_pages = _differing(_render(root, "signed", dpi, max_pages, timeout, hide_annotations=True),
                                            _render(root, "final", dpi, max_pages, timeout, hide_annotations=True))
        return diff


def _run(args: list[str], timeout: float) -> None:
    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout, env={**os.environ, "LC_ALL": "C"})
    except subprocess.TimeoutExpired:
        raise NotCompared(said("visual.timeout", tool=args[0], seconds=f"{timeout:.0f}")) from None
    if done.returncode != 0:
        raise NotCompared(said("visual.failed", tool=args[0], error=done.stderr.decode("utf-8", "replace")[:200]))


def _render(root: Path, name: str, dpi: int, max_pages: int, timeout: float, *,
            hide_annotations: bool) -> list[bytes]:
    """Each page as 8-bit grey pixels (PGM), in page order."""
    prefix = root / f"{name}-{'content' if hide_annotations else 'shown'}"
    _run(["pdftoppm", "-gray", "-r", str(dpi), "-l", str(max_pages), *(["-hide-annotations"] * hide_annotations),
          str(root / f"{name}.pdf"), str(prefix)], timeout)
    files = sorted(root.glob(f"{prefix.name}-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return [file.read_bytes() for file in files]


def _differing(before: list[bytes], after: list[bytes]) -> list[int]:
    pages = []
    for number in range(1, max(len(before), len(after)) + 1):
        if number > len(before) or number > len(after) or _pixels_differ(before[number - 1], after[number - 1]):
            pages.append(number)
    return pages


def _pixels_differ(one: bytes, other: bytes) -> bool:
    if one == other:
        return False
    (size_one, pixels_one), (size_other, pixels_other) = _pgm(one), _pgm(other)
    if size_one != size_other:
        return True
    return any(abs(a - b) > PIXEL_TOLERANCE for a, b in zip(pixels_one, pixels_other))


def _pgm(data: bytes) -> tuple[tuple[int, int], bytes]:
    """(width, height) and the pixels of a binary PGM (P5, maxval 255) as pdftoppm writes it."""
    fields: list[bytes] = []
    position = 0
    while len(fields) < 4:
        while data[position:position + 1].isspace():
            position += 1
        end = position
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    if fields[0] != b"P5" or fields[3] != b"255":
        raise NotCompared("pdftoppm wrote an unexpected image format")
    width, height = int(fields[1]), int(fields[2])
    return (width, height), data[position + 1:position + 1 + width * height]


def _text(root: Path, name: str, max_pages: int, timeout: float) -> list[str]:
    out = root / f"{name}.txt"
    _run(["pdftotext", "-l", str(max_pages), "-enc", "UTF-8", str(root / f"{name}.pdf"), str(out)], timeout)
    return out.read_text(encoding="utf-8", errors="replace").split("\f")


def _text_changes(before: list[str], after: list[str]) -> list[int]:
    def words(pages: list[str], number: int) -> list[str]:
        return pages[number - 1].split() if number <= len(pages) else []

    return [number for number in range(1, max(len(before), len(after)) + 1)
            if words(before, number) != words(after, number)]
