"""Encryption at rest for secrets: scheme locations, rehousing addresses, household details.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) gives authenticated encryption,
so a tampered ciphertext fails loudly rather than decrypting to rubbish. Several keys may
be configured (newest first) so keys can be rotated without re-encrypting in one go.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from placement.config import Settings

log = logging.getLogger(__name__)

SECRET_KEY_FILE = "secret.key"


class Cipher:
    """Encrypts and decrypts JSON documents with the configured keys."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._primary = keys[0].strip().encode()
        try:
            self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        except ValueError as exc:
            raise SystemExit(
                "PLACEMENT_SECRET_KEY must be Fernet keys (32 url-safe base64 bytes), "
                "comma-separated; generate one with `placement keys secret`"
            ) from exc

    def derive(self, purpose: str) -> str:
        """A secret for `purpose` (e.g. signing CSRF tokens), derived from the newest key.

        Every worker given the same keys derives the same secret, and no second secret
        needs configuring; a different purpose gets an unrelated value.
        """
        return hmac.new(self._primary, purpose.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(bytes(token))
        except InvalidToken as exc:
            raise RuntimeError(
                "a stored secret cannot be decrypted with the configured keys"
            ) from exc

    def encrypt_json(self, document: Any) -> bytes:
        return self.encrypt(json.dumps(document, separators=(",", ":")).encode())

    def decrypt_json(self, token: bytes) -> Any:
        return json.loads(self.decrypt(token))


def new_secret_key() -> str:
    return Fernet.generate_key().decode()


def load_cipher(settings: Settings) -> Cipher:
    """Use PLACEMENT_SECRET_KEY, or on a local first run generate a key into the data dir.

    The generated file is created owner-only (0600) before anything is written to it, so
    the key is never readable by other users even for a moment.
    """
    if settings.secret_key:
        return Cipher(settings.secret_key.split(","))
    path = settings.data_dir / SECRET_KEY_FILE
    if not path.exists():
        _write_private(path, new_secret_key())
        log.warning(
            "Generated a development encryption key at %s (owner-only). Set "
            "PLACEMENT_SECRET_KEY in real deployments and keep it out of the repository.",
            path,
        )
    return Cipher(path.read_text().split(","))


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
