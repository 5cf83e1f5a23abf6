"""Documents kept with a report as evidence (docs/design.md §6 item 7): what may be attached,
adding and deleting them, and checking that the stored bytes are still those received.

1. **What may be attached** (``accepted_kind``): PDF, a saved web page (HTML or MHTML), PNG,
   JPEG, WebP and plain text (UTF-8), judged by the content's first bytes, and the file's
   extension must name the same kind; at most ``TRACKER_DOCUMENT_MAX_BYTES``.
2. **Adding** (``document_add``): the SHA-256 of the bytes as they arrived (``tracker.uploads``
   computes it while the upload streams), the size, the type read from the content, who and
   when; the file goes to the documents' storage under a random name.
3. **Never altered**: the model refuses a save that changes the file or what it records about
   it; a correction is a new document. Deleting one (``document_delete``) keeps its history
   and removes its file once the deletion commits.
4. **Verified** (``ReportDocument.verify``, ``manage.py verifydocuments``): the stored bytes
   hashed again and compared.

Who may see a document is who may see its report: ``visibility.documents``.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Report, ReportDocument, document_storage

logger = logging.getLogger(__name__)

HEAD_BYTES = 8192  # how much of a file its type is judged by


@dataclass(frozen=True)
class Kind:
    """A kind of file that may be attached."""

    label: str | Promise  # said in the reader's language: str(kind.label)
    content_type: str
    extensions: tuple[str, ...]


PDF = Kind("PDF", "application/pdf", (".pdf",))
HTML = Kind(gettext_lazy("HTML page"), "text/html", (".html", ".htm"))
MHTML = Kind(gettext_lazy("MHTML web archive"), "multipart/related", (".mhtml", ".mht"))
PNG = Kind(gettext_lazy("PNG image"), "image/png", (".png",))
JPEG = Kind(gettext_lazy("JPEG image"), "image/jpeg", (".jpg", ".jpeg"))
WEBP = Kind(gettext_lazy("WebP image"), "image/webp", (".webp",))
TEXT = Kind(gettext_lazy("plain text (UTF-8)"), "text/plain", (".txt",))
KINDS = (PDF, HTML, MHTML, PNG, JPEG, WEBP, TEXT)
BY_EXTENSION = {extension: kind for kind in KINDS for extension in kind.extensions}
ALLOWED = gettext_lazy(
    "PDF, HTML or MHTML (a saved web page), PNG, JPEG, WebP or plain text (.txt)"
)

# Before an HTML page's first tag: a byte-order mark, blank space, comments (browsers write
# "<!-- saved from url=... -->" at the top of a saved page), an XML declaration.
_HTML_PREAMBLE = re.compile(rb"^(?:\xef\xbb\xbf)?(?:\s+|<!--.*?-->|<\?xml[^>]*>)*", re.DOTALL)
_HTML_START = re.compile(rb"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_MIME_HEADERS_END = re.compile(rb"\r?\n\r?\n")


def kind_of_content(file: IO[bytes]) -> Kind | None:
    """The allowed kind ``file``'s content is, from its first bytes (and, for plain text,
    all of them: it must be UTF-8 throughout); None for anything else. Reads from the start
    and leaves the file at its start."""
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if b"\x00" in head:
        return None  # binary: none of the text kinds below
    if _is_mhtml(head):
        return MHTML
    preamble = _HTML_PREAMBLE.match(head)  # matches empty at least: optional parts only
    if _HTML_START.match(head, preamble.end() if preamble else 0):
        return HTML
    return TEXT if _is_utf8(file) else None


def _is_mhtml(head: bytes) -> bool:
    """A MIME message of related parts (what browsers save as .mhtml): headers first, among
    them a MIME version and a multipart/related content type."""
    end = _MIME_HEADERS_END.search(head)
    headers = head[: end.start()] if end else b""
    return bool(
        re.search(rb"^mime-version:", headers, re.IGNORECASE | re.MULTILINE)
        and re.search(rb"^content-type:\s*multipart/related", headers, re.I | re.MULTILINE)
    )


def _is_utf8(file: IO[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := file.read(64 * 1024):
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        file.seek(0)
    return True


def accepted_kind(upload: File) -> Kind:
    """The kind of an uploaded file that may be attached; a ValidationError saying why not
    (every reason at once) otherwise."""
    name = upload.name or ""
    problems = []
    limit = settings.TRACKER_DOCUMENT_MAX_BYTES
    values: dict[str, object] = {"name": repr(name), "allowed": ALLOWED}
    if upload.size == 0:
        problems.append(_("%(name)s is empty.") % values)
    elif upload.size > limit:
        problems.append(
            _("%(name)s is %(size)s; the largest document accepted is %(limit)s.")
            % {**values, "size": size_display(upload.size), "limit": size_display(limit)}
        )
    claimed = BY_EXTENSION.get(PurePath(name).suffix.lower())
    found = kind_of_content(upload) if upload.size else None
    if claimed is None:
        problems.append(_("%(name)s cannot be attached: attach a %(allowed)s file.") % values)
    elif upload.size and found != claimed:
        values["claimed"] = claimed.label
        problems.append(
            _("%(name)s is named as %(claimed)s but its content is %(found)s.")
            % {**values, "found": found.label}
            if found
            else _("%(name)s is named as %(claimed)s but its content is none of %(allowed)s.")
            % values
        )
    if problems or claimed is None:  # claimed is None only with a problem said above
        raise ValidationError(problems)
    return claimed


def size_display(size: int) -> str:
    """'1.2 MB', '830 KB', '412 bytes' (decimal units, as the size limit is written)."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}".replace(".0 ", " ")
    return _("%(size)s bytes") % {"size": size}


def sha256_of(upload: File) -> str:
    """The hash the upload handlers computed as the bytes arrived (``tracker.uploads``); for a
    file that came another way (a command, a test), its bytes read once, in chunks."""
    digest = getattr(upload, "sha256", None)
    if digest:
        return digest
    hasher = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        hasher.update(chunk)
    upload.seek(0)
    return hasher.hexdigest()


def original_name_of(upload: File) -> str:
    """The name the file had, without any folder, cut to fit with its extension kept."""
    name = PurePath((upload.name or "document").replace("\\", "/")).name or "document"
    name = "".join(c for c in name if c.isprintable())
    if len(name) > 255:
        suffix = PurePath(name).suffix[:16]
        name = name[: 255 - len(suffix)] + suffix
    return name


def duplicate_of(report: Report, sha256: str) -> ReportDocument | None:
    return ReportDocument.objects.filter(report=report, sha256=sha256).first()


@transaction.atomic
def document_add(*, report: Report, upload: File, added_by=None, note: str = "") -> ReportDocument:
    """Store ``upload`` with ``report`` (checked as ``accepted_kind`` says), with its SHA-256,
    size and type; a ValidationError if it may not be attached or already is."""
    kind = accepted_kind(upload)
    sha256 = sha256_of(upload)
    if (same := duplicate_of(report, sha256)) is not None:
        raise ValidationError(
            _("This file is already attached to this report, as %(name)s.")
            % {"name": repr(same.original_name)}
        )
    document = ReportDocument(
        report=report,
        sha256=sha256,
        size=upload.size,
        content_type=kind.content_type,
        original_name=original_name_of(upload),
        added_by=added_by,
        note=note,
    )
    document.full_clean(exclude=["file"])
    upload.seek(0)
    document.file.save(upload.name, upload, save=False)
    try:
        document.save()
    except BaseException:
        document.file.storage.delete(document.file.name)
        raise
    return document


def document_delete(*, document: ReportDocument) -> None:
    """Delete a document: its history keeps what it was, who added it and who deleted it; its
    file is removed once the deletion commits (``file_remove_on_commit``)."""
    document.delete()


def file_remove_on_commit(name: str) -> None:
    """Remove a deleted document's stored file, once the deletion has committed (a rolled
    back deletion keeps it). Called for every deletion through the models, cascades too."""

    def remove() -> None:
        try:
            document_storage().delete(name)
        except Exception:  # the row is gone either way: say so, do not fail the request
            logger.exception("Could not remove the stored file %s of a deleted document", name)

    transaction.on_commit(remove)


UNREADABLE = "unreadable"  # what ``documents_verify`` finds when the storage fails to read


def documents_verify(queryset) -> Iterator[tuple[ReportDocument, str | None]]:
    """Each document of ``queryset`` with the SHA-256 of the bytes its storage holds now (None:
    missing; ``UNREADABLE``: the storage failed, which is logged and does not stop the rest)."""
    for document in queryset.iterator(chunk_size=500):
        try:
            found = document.stored_sha256()
        except Exception:
            logger.exception("Could not read document #%s (%s)", document.pk, document.file.name)
            found = UNREADABLE
        yield document, found


def verification_problem(document: ReportDocument, found: str | None) -> str:
    """One line saying what is wrong with a document whose stored bytes are not as added."""
    what = f"document #{document.pk} {document.original_name!r} of report #{document.report_id}"
    if found is None:
        return f"MISSING  {what}: no file {document.file.name!r} in the storage."
    if found == UNREADABLE:
        return f"UNREADABLE  {what}: the storage failed to read {document.file.name!r}."
    return (
        f"ALTERED  {what}: {document.file.name!r} hashes to {found}, "
        f"not {document.sha256} as when it was added."
    )
