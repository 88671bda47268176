"""The NUL character in typed input.

PostgreSQL can store NUL neither in a text column nor inside a jsonb string, so a value that
holds one fails as a database error. Django's form CharField refuses it with a clear message;
input that reaches a JSON column or a model without a Django form field (drafts, answers,
signatures) is checked here with the same message.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator

NULL_CHARACTERS_MESSAGE = ProhibitNullCharactersValidator.message
NULL_CHARACTERS_CODE = ProhibitNullCharactersValidator.code


def has_null_character(value: Any) -> bool:
    """Whether a string, or any key or string inside a list or dict, holds a NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_null_character(k) or has_null_character(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_null_character(item) for item in value)
    return False


def refuse_null_characters(value: Any) -> None:
    if has_null_character(value):
        raise ValidationError(NULL_CHARACTERS_MESSAGE, code=NULL_CHARACTERS_CODE)
