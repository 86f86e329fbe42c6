"""Encryption at rest of WhatsApp access tokens, with keys that can be rotated.

Tokens are Fernet tokens under FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts.
Every token this process encrypts or decrypts is also redacted from its logs from then on.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from crm.log_redaction import remember_secret

PREFIX = "fernet:"


class DecryptionError(Exception):
    pass


def _fernet():
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])


@sensitive_variables("plaintext")
def encrypt(plaintext):
    remember_secret(plaintext)
    return PREFIX + _fernet().encrypt(plaintext.encode()).decode()


@sensitive_variables("plaintext")
def decrypt(stored):
    if not is_encrypted(stored):
        raise DecryptionError("the stored value is not an encrypted token")
    try:
        plaintext = _fernet().decrypt(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as error:
        raise DecryptionError("no configured key decrypts this token") from error
    remember_secret(plaintext)
    return plaintext


def is_encrypted(stored):
    return stored.startswith(PREFIX)


def is_current(stored):
    """Whether `stored` is encrypted under the first (newest) key already."""
    try:
        Fernet(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(stored.removeprefix(PREFIX).encode())
    except InvalidToken:
        return False
    return True


def rotate(stored):
    """Re-encrypt `stored` under the first (newest) key; DecryptionError if no key decrypts it."""
    try:
        return PREFIX + _fernet().rotate(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as error:
        raise DecryptionError("no configured key decrypts this token") from error
