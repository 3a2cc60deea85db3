"""Encryption of users' API keys at rest (Fernet: AES-128-CBC + HMAC-SHA256, authenticated)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)

SECRET_FILE_NAME = "key-encryption.secret"  # noqa: S105 - a file name, not a secret


class KeyDecryptionError(Exception):
    """A stored key cannot be read with the configured secret(s)."""

    #: Stable name of this failure (the code the engine gives the jobs of such a key).
    error_code: ClassVar[str] = "KeyUnreadable"


def _fernet_key(secret: str) -> bytes:
    """A Fernet key from a configured secret: used as is when it already is one, else derived."""
    try:
        if len(base64.urlsafe_b64decode(secret.encode())) == 32:
            return secret.encode()
    except (binascii.Error, ValueError):
        pass
    # Domain-separated SHA-256: any long random string makes a good secret.
    digest = hashlib.sha256(b"seedance-bot/api-keys/v1\x00" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


class KeyCipher:
    """Encrypts with the first secret and decrypts with any, so secrets can be rotated."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("at least one secret is needed")
        self._fernet = MultiFernet([Fernet(_fernet_key(s)) for s in secrets])
        self._primary = Fernet(_fernet_key(secrets[0]))

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            raise KeyDecryptionError(
                "stored key cannot be decrypted with the configured secret"
            ) from None

    def can_decrypt(self, token: bytes) -> bool:
        """Whether any configured secret opens ``token``."""
        try:
            self._fernet.decrypt(token)
        except InvalidToken:
            return False
        return True

    def is_current(self, token: bytes) -> bool:
        """Whether ``token`` is already under the primary secret."""
        try:
            self._primary.decrypt(token)
        except InvalidToken:
            return False
        return True

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt ``token`` under the primary secret."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise KeyDecryptionError(
                "stored key cannot be decrypted with the configured secret"
            ) from None


def load_or_create_secret(data_dir: Path) -> str:
    """The generated secret in ``data_dir``, created (owner-only) on first start.

    Used only when no secret is configured. Losing this file loses every linked key, so the
    operator is warned once, when it is made.
    """
    path = data_dir / SECRET_FILE_NAME
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("%s is readable by other users (mode %o); run chmod 600 on it", path, mode)
        return path.read_text("ascii").strip()
    secret = Fernet.generate_key().decode()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    log.warning(
        "No KEY_ENCRYPTION_SECRET configured: generated one in %s. Back it up with the database; "
        "linked API keys cannot be read without it.",
        path,
    )
    return secret
