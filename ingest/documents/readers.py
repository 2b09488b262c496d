"""Read a document file into (title, markdown-like text); headings become `#` lines for the chunker."""

import re
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import IngestError

DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_FM_FIELD = r"^{}:\s*[\"']?(.+?)[\"']?\s*$"


@dataclass(frozen=True)
class RawDocument:
    title: str
    text: str


def decode_text(data: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM), else the common Chinese encodings; refuse binary data."""
    if b"\x00" in data[:4096]:
        raise IngestError(path, "binary data where text was expected")
    for encoding in ("utf-8-sig", "gb18030", "big5"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise IngestError(path, "text is not UTF-8, GB18030 or Big5")


def _first_heading(text: str) -> str:
    match = re.search(r"^#\s*(.+?)\s*#*\s*$", text, re.M)
    return match.group(1).strip() if match else ""


def read_markdown(data: bytes, path: Path) -> RawDocument:
    text = decode_text(data, path)
    title = ""
    front = _FRONT_MATTER.match(text)
    if front:
        title = _front_field(front.group(1), "title")
        lead = [_front_field(front.group(1), name) for name in ("subtitle", "description", "summary")]
        text = "\n\n".join([t for t in lead if t] + [text[front.end():]])
        if not text.strip() and title:  # an index page: its title is what it says
            text = title
    return RawDocument(title=title or _first_heading(text) or path.stem, text=text)


def _front_field(front: str, name: str) -> str:
    match = re.search(_FM_FIELD.format(name), front, re.M)
    return match.group(1).strip() if match else ""


def read_text(data: bytes, path: Path) -> RawDocument:
    text = decode_text(data, path)
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return RawDocument(title=first_line[:80] if len(first_line) <= 80 else path.stem, text=text)


def read_html(data: bytes, path: Path) -> RawDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data, path), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript"]):
        tag.decompose()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(f"\n{'#' * level} {heading.get_text(' ', strip=True)}\n")
    for block in soup.find_all(["p", "li", "tr", "br", "div"]):
        block.insert_after("\n")
    title_tag = soup.find("title")
    text = re.sub(r"\n\s*\n+", "\n\n", soup.get_text())
    title = title_tag.get_text(strip=True) if title_tag else ""
    return RawDocument(title=title or _first_heading(text) or path.stem, text=text)


def read_pdf(data: bytes, path: Path) -> RawDocument:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(path, f"not a readable PDF: {exc}") from None
    return RawDocument(title=str(meta_title).strip() or path.stem, text="\n\n".join(pages))


def read_docx(data: bytes, path: Path) -> RawDocument:
    import io
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IngestError(path, f"not a readable DOCX: {exc}") from None
    lines = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        level = re.match(r"Heading (\d)", style or "")
        lines.append(f"{'#' * int(level.group(1))} {paragraph.text}" if level else paragraph.text)
    text = "\n\n".join(lines)
    title = document.core_properties.title or _first_heading(text) or path.stem
    return RawDocument(title=title, text=text)


_READERS = {
    ".md": read_markdown, ".markdown": read_markdown, ".txt": read_text, ".html": read_html,
    ".htm": read_html, ".pdf": read_pdf, ".docx": read_docx,
}


def read_document(data: bytes, path: Path) -> RawDocument:
    """Dispatch on the suffix; the reader checks the content and names what is wrong with it."""
    document = _READERS[path.suffix.lower()](data, path)
    if not document.text.strip():
        raise IngestError(path, "document has no text")
    return document
