"""Read a document file into (title, markdown-like text); headings become `#` lines for the chunker."""

import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import IngestError, first_line

DOCUMENT_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_FM_FIELD = r"^{}:\s*[\"']?(.+?)[\"']?\s*$"


@dataclass(frozen=True)
class RawDocument:
    title: str
    text: str
    repaired: bool = False
    url: str = ""  # where the document is published, when it says (front matter url/source_url/link)
    date: str = ""  # its date, when it says (front matter date/issued, or "(YYYY-MM-DD)" in the file name)


MAX_DOCX_EXPANDED = 50_000_000  # bytes a DOCX may unpack to
MAX_DOCX_RATIO = 100  # unpacked / packed size; text XML packs 5-15x, a zip bomb far more
_SAMPLE_BYTES = 65_536
_UNICODE_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
                 (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def decode_text(data: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030 or Big5, whichever reads as more common Chinese characters
    (Big5 bytes also decode as GB18030, into rare characters); refuse binary data."""
    for bom, encoding in _UNICODE_BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                raise IngestError(path, f"text starts with a {encoding.upper()} byte-order mark but is not "
                                        f"{encoding.upper()}") from None
    if b"\x00" in data[:4096]:
        raise IngestError(path, "binary data where text was expected")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    readable = {}
    for encoding in ("gb18030", "big5"):
        try:
            readable[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if not readable:
        raise IngestError(path, "text is not UTF-8, GB18030 or Big5")
    sample = data[:_SAMPLE_BYTES]
    best = max(readable, key=lambda encoding: _common_characters(sample.decode(encoding, errors="ignore"), encoding))
    return readable[best]


def _common_characters(text: str, encoding: str) -> int:
    """Characters of the everyday set of that encoding: GB2312 for simplified text, Big5's 常用字 for
    traditional (lead bytes A4-C6)."""
    count = 0
    for char in text:
        if not "\u4e00" <= char <= "\u9fff":
            continue
        try:
            encoded = char.encode("gb2312" if encoding == "gb18030" else "big5")
        except UnicodeEncodeError:
            continue
        count += encoding == "gb18030" or 0xA4 <= encoded[0] <= 0xC6
    return count


def _first_heading(text: str) -> str:
    match = re.search(r"^#+\s*(.+?)\s*#*\s*$", text, re.M)
    return match.group(1).strip() if match else ""


def read_markdown(data: bytes, path: Path) -> RawDocument:
    text = decode_text(data, path)
    title = ""
    front = _FRONT_MATTER.match(text)
    url = date = ""
    if front:
        title = _front_field(front.group(1), "title")
        url = next((u for u in (_front_field(front.group(1), n) for n in _URL_FIELDS)
                    if u.lower().startswith(("https://", "http://"))), "")
        date = next((d for d in (_front_field(front.group(1), n) for n in _DATE_FIELDS) if d), "")
        lead = [_front_field(front.group(1), name) for name in ("subtitle", "description", "summary")]
        text = "\n\n".join([t for t in lead if t] + [text[front.end():]])
        if not text.strip() and title:  # an index page: its title is what it says
            text = title
    return RawDocument(title=title or _first_heading(text) or path.stem, text=text, url=url, date=date)


_URL_FIELDS = ("url", "source_url", "canonical_url", "link", "source")
_DATE_FIELDS = ("date", "issued", "published", "modified")
_DATE_IN_NAME = re.compile(r"[(（_ -](\d{4}-\d{2}-\d{2})[)）_ ]?")


def date_in_name(name: str) -> str:
    """A YYYY-MM-DD date in a file name, as laws are often saved: 政府信息公开条例(2019-04-03).md."""
    found = _DATE_IN_NAME.search(Path(name).stem)
    return found.group(1) if found else ""


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
    from pypdf.errors import DependencyError, PdfReadError, PyPdfError

    encrypted = IngestError(path, "encrypted PDF (a password or a cipher this reader lacks protects it); "
                                  "ingest an unencrypted copy")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not _opens_without_password(reader):
            raise encrypted
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except DependencyError:  # AES (and other ciphers) without the optional crypto library
        raise encrypted from None
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError, AttributeError,
            RecursionError) as exc:
        raise IngestError(path, f"not a readable PDF: {first_line(exc, 200)}") from None
    return RawDocument(title=str(meta_title).strip() or path.stem, text="\n\n".join(pages))


def _opens_without_password(reader: object) -> bool:
    """Many published PDFs are encrypted with an empty user password (print/copy flags only)."""
    try:
        return bool(reader.decrypt(""))  # type: ignore[attr-defined]
    except Exception:  # pypdf raises DependencyError, NotImplementedError, ... for ciphers it cannot do
        return False


def read_docx(data: bytes, path: Path) -> RawDocument:
    import io
    import zipfile

    import docx

    _check_docx_package(data, path)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, SyntaxError, TypeError, AttributeError) as exc:
        # lxml's XMLSyntaxError is a SyntaxError: broken XML inside the package
        raise IngestError(path, f"not a readable DOCX: {first_line(exc, 200)}") from None
    lines = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        level = re.match(r"Heading (\d)", style or "")
        lines.append(f"{'#' * int(level.group(1))} {paragraph.text}" if level else paragraph.text)
    text = "\n\n".join(lines)
    title = document.core_properties.title or _first_heading(text) or path.stem
    return RawDocument(title=title, text=text)


def _check_docx_package(data: bytes, path: Path) -> None:
    """Refuse a DOCX that unpacks too large or too far (a zip bomb), or whose XML declares a DTD or entities
    (an entity bomb); Word never writes either."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            parts = package.infolist()
            expanded = sum(part.file_size for part in parts)
            if expanded > MAX_DOCX_EXPANDED or expanded > MAX_DOCX_RATIO * max(len(data), 1):
                raise IngestError(path, f"DOCX unpacks to {expanded:,} bytes from {len(data):,} (limit "
                                        f"{MAX_DOCX_EXPANDED:,} bytes, {MAX_DOCX_RATIO}x); refusing a possible "
                                        "zip bomb")
            for part in parts:
                if part.filename.endswith((".xml", ".rels")) and _declares_entities(package.read(part)):
                    raise IngestError(path, f"DOCX part {part.filename} declares a DTD or entities; refusing it")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, NotImplementedError) as exc:
        raise IngestError(path, f"not a readable DOCX: {first_line(exc, 200)}") from None


def _declares_entities(xml: bytes) -> bool:
    return b"<!DOCTYPE" in xml or b"<!ENTITY" in xml


_READERS = {
    ".md": read_markdown, ".markdown": read_markdown, ".txt": read_text, ".html": read_html,
    ".htm": read_html, ".pdf": read_pdf, ".docx": read_docx,
}


def read_document(data: bytes, path: Path) -> RawDocument:
    """Dispatch on the suffix; the reader checks the content and names what is wrong with it. Title and text
    are cleaned (ingest/clean.py); `repaired` says whether they needed it."""
    from ingest.clean import clean_text

    document = _READERS[path.suffix.lower()](data, path)
    title, title_repaired = clean_text(document.title)
    text, text_repaired = clean_text(document.text)
    if not text.strip():
        raise IngestError(path, "document has no text")
    return RawDocument(title=title, text=text, repaired=title_repaired or text_repaired, url=document.url,
                       date=document.date.strip().strip("'\"")[:10] or date_in_name(path.name))
