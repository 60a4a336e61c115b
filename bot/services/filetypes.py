"""What an uploaded file is, decided from its bytes (the `filetype` library's signatures).

The name and the declared MIME type come from the sender's client and prove nothing:
`evil.exe` declared as application/pdf is still an executable. Only the document types
the checklist needs are accepted, and the name kept for the officers gets the extension
of what the file really is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# the checklist's documents: scans and photos (PDF, JPEG, PNG), the cost structure and
# packing lists as Excel or Word files
ALLOWED: dict[str, str] = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", XLSX: ".xlsx", DOCX: ".docx"}
# filetype looks at the first 8 KB at most (the Office formats name their parts there)
HEAD_BYTES = 8192
_UNSAFE = re.compile(r"[\\/:*?\"<>|]+")


@dataclass(frozen=True)
class Detected:
    mime_type: str
    extension: str


def detect(content: bytes) -> Detected | None:
    """The allowed type the bytes are, or None (unknown, or a type we do not take)."""
    import filetype  # here: only an upload needs its signatures, start-up does not

    kind = filetype.guess(bytes(content[:HEAD_BYTES]))
    if kind is None or kind.mime not in ALLOWED:
        return None
    return Detected(kind.mime, ALLOWED[kind.mime])


def safe_name(declared: str, detected: Detected, fallback: str = "dokumen") -> str:
    """The sender's file name with the extension of what the file is, without path
    separators or control characters: 'evil.exe' holding a PDF becomes 'evil.pdf'."""
    name = "".join(ch for ch in declared if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" ._")
    stem = name.rsplit(".", 1)[0].strip(" ._") if "." in name else name
    return f"{stem[:120] or fallback}{detected.extension}"


def declared(file_name: str, mime_type: str) -> Detected | None:
    """The allowed type a file claims to be, when its bytes cannot be read: both the
    declared MIME type and the name's extension must say so ('x.pdf.exe' declared as a
    PDF is refused). Weaker than `detect`; only for files that cannot be fetched."""
    extension = ALLOWED.get(mime_type)
    if extension is None:
        return None
    suffix = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    same = {extension, ".jpeg"} if mime_type == JPEG else {extension}
    return Detected(mime_type, extension) if suffix in same else None
