"""Upload handlers that hash every uploaded file as its bytes arrive.

Django's two default handlers (in memory for small requests, a temporary file for larger
ones), each also feeding a SHA-256 with every chunk it receives, and giving the finished file
its hex digest as ``sha256``. A document is then stored with the hash of exactly the bytes the
client sent, computed in the one pass that receives them (``documents.document_add`` hashes a
file that has none, such as one opened in a management command, by reading it once).

Installed for every upload in ``FILE_UPLOAD_HANDLERS``: swapping handlers per view would have
to happen before the CSRF middleware reads the request body, which it does for every POST.
"""

from __future__ import annotations

import hashlib

from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    TemporaryFileUploadHandler,
)


class _Hashing(FileUploadHandler):
    """Feeds a SHA-256 with every chunk of the current file that this handler keeps; sets
    ``sha256`` on the file it completes."""

    def new_file(self, *args, **kwargs) -> None:
        # Before the parent's: the memory handler stops the others by raising from it.
        self._sha256 = hashlib.sha256()
        super().new_file(*args, **kwargs)

    def keeps_chunks(self) -> bool:
        return True

    def receive_data_chunk(self, raw_data: bytes, start: int):
        if self.keeps_chunks():
            self._sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int):
        file = super().file_complete(file_size)
        if file is not None:
            file.sha256 = self._sha256.hexdigest()  # type: ignore[attr-defined]  # ours, read by documents
        return file


class HashingMemoryFileUploadHandler(_Hashing, MemoryFileUploadHandler):
    """Small requests (``FILE_UPLOAD_MAX_MEMORY_SIZE``): the file kept in memory."""

    def keeps_chunks(self) -> bool:
        # Not activated, it passes every chunk on to the temporary-file handler, which hashes.
        return self.activated


class HashingTemporaryFileUploadHandler(_Hashing, TemporaryFileUploadHandler):
    """Larger requests: the file streamed to a temporary file."""
