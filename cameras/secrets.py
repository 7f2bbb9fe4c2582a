"""Camera credentials encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256, from
`cryptography`), under a key that is never in the database nor, by default, in a backup.

The keys: SECRETS_KEY (comma-separated; the first encrypts, every one decrypts, so a key
can be rotated with `manage.py rotate_secrets`), else the one in STATE_DIR/secrets.key,
made on first use (mode 0600). Plain values exist only in memory, where a stream is opened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, overload

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

MISMATCH = "cannot decrypt camera credentials: SECRETS_KEY does not match"

_cache: dict[tuple, MultiFernet] = {}


class SecretsKeyError(Exception):
    """The key file cannot be read or made; the message is one line."""


class CredentialsUnreadable(Exception):
    """A stored credential that none of the keys decrypts (a database or backup brought
    from an installation with another key)."""

    def __init__(self, message: str = MISMATCH):
        super().__init__(message)


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _read_key_file(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except OSError as e:
        raise SecretsKeyError(f"cannot read the secrets key {path}: {e.strerror}") from None
    keys = [key.strip() for key in text.replace("\n", ",").split(",") if key.strip()]
    if not keys:
        raise SecretsKeyError(f"the secrets key file {path} is empty")
    return keys


def _make_key_file(path: Path) -> None:
    """Written aside then linked into place: of processes starting together on a new
    install, one key wins and nobody reads a half-written file."""
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(generate_key() + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    except OSError as e:
        raise SecretsKeyError(f"cannot write the secrets key {path}: {e.strerror}") from None


def key_source() -> str:
    """Where the keys come from, in words (for messages; never the key itself)."""
    return "SECRETS_KEY" if settings.SECRETS_KEYS else str(settings.SECRETS_KEY_PATH)


@overload
def _fernet(*, create: Literal[True]) -> MultiFernet: ...
@overload
def _fernet(*, create: bool) -> MultiFernet | None: ...
def _fernet(*, create: bool) -> MultiFernet | None:
    keys = list(settings.SECRETS_KEYS)
    path = Path(settings.SECRETS_KEY_PATH)
    stamp: tuple = ()
    if not keys:
        if not path.exists():
            if not create:
                return None
            _make_key_file(path)
        st = path.stat()
        stamp = (str(path), st.st_mtime_ns, st.st_size, st.st_ino)
    cache_key = (tuple(keys), stamp)
    fernet = _cache.get(cache_key)
    if fernet is None:
        if not keys:
            keys = _read_key_file(path)
        try:
            fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError:
            raise SecretsKeyError(f"{key_source()} holds something that is not a Fernet key") from None
        _cache.clear()
        _cache[cache_key] = fernet
    return fernet


def encrypt(plain: str) -> str:
    """The stored form of a credential: "" stays "" (nothing to hide, and blank means unset)."""
    if not plain:
        return ""
    return _fernet(create=True).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """The plain credential. Raises CredentialsUnreadable when no key opens it."""
    if not token:
        return ""
    fernet = _fernet(create=False)
    if fernet is None:
        raise CredentialsUnreadable()
    try:
        return fernet.decrypt(token.encode()).decode()
    except (InvalidToken, UnicodeError):
        raise CredentialsUnreadable() from None


def readable(token: str) -> bool:
    try:
        decrypt(token)
    except CredentialsUnreadable:
        return False
    return True


def rotate(token: str) -> str:
    """The token re-encrypted with the first key. Raises CredentialsUnreadable."""
    if not token:
        return ""
    try:
        return _fernet(create=True).rotate(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable() from None
