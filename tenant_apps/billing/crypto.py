"""Field encryption for secrets at rest (the practice's tax id), with Fernet.

The key is derived from the BILLING_FIELD_KEY setting with HKDF, so the setting can be any long
random string. Rotating it needs re-encryption of stored values: decrypt with the old key,
encrypt with the new (MultiFernet would allow a gradual switch).
"""

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@cache
def _fernet(secret: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"swasth-billing-field"
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(value: str) -> str:
    return _fernet(settings.BILLING_FIELD_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The plaintext; raises ValueError when the key does not match the stored value."""
    try:
        return _fernet(settings.BILLING_FIELD_KEY).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("This value was encrypted with another BILLING_FIELD_KEY") from error
