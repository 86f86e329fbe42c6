"""Encryption at rest of WhatsApp access tokens, with keys that can be rotated.

Tokens are Fernet tokens under FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "fernet:"


class DecryptionError(Exception):
    pass


def _fernet():
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(plaintext):
    return PREFIX + _fernet().encrypt(plaintext.encode()).decode()


def decrypt(stored):
    if not stored.startswith(PREFIX):
        raise DecryptionError("the stored value is not an encrypted token")
    try:
        return _fernet().decrypt(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as error:
        raise DecryptionError("no configured key decrypts this token") from error


def is_encrypted(stored):
    return stored.startswith(PREFIX)


def rotate(stored):
    """Re-encrypt `stored` under the first (newest) key."""
    return PREFIX + _fernet().rotate(stored.removeprefix(PREFIX).encode()).decode()
