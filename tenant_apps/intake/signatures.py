"""What an electronic signature is made of, checked before anything is stored.

A drawn signature arrives as a PNG data URL from the signature pad's <canvas>; it is bounded
in size and dimensions, decoded to prove it is a PNG, and refused when nothing was drawn.
"""

import base64
import binascii
import hashlib
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

from tenant_apps.portal.null_characters import NULL_CHARACTERS_MESSAGE, has_null_character

PNG_PREFIX = "data:image/png;base64,"
# A signature pad of 600x200 CSS pixels at 3x density compresses well below this.
MAX_IMAGE_CHARS = 400_000
MAX_WIDTH, MAX_HEIGHT = 2400, 1000
RELATIONSHIPS = ("self", "parent", "guardian", "other")


@dataclass(frozen=True)
class SignatureInput:
    full_name: str
    method: str
    image: str
    typed_text: str
    relationship: str
    relationship_detail: str
    agreed: bool


def image_sha256(data_url: str) -> str:
    return hashlib.sha256(data_url.encode()).hexdigest() if data_url else ""


def check_drawing(data_url: str) -> str:
    """The data URL if it holds a PNG with something drawn on it, else ValidationError."""
    if not data_url:
        raise ValidationError("Draw your signature in the box, or choose to type it instead.")
    if len(data_url) > MAX_IMAGE_CHARS or not data_url.startswith(PNG_PREFIX):
        raise ValidationError("The drawn signature could not be read. Clear it and draw again.")
    try:
        raw = base64.b64decode(data_url[len(PNG_PREFIX) :], validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise ValueError("not a PNG")
            width, height = image.size
            if width > MAX_WIDTH or height > MAX_HEIGHT:
                raise ValueError("too large")
            image.load()
            drawn = image.convert("RGBA")
    except (binascii.Error, ValueError, OSError, UnidentifiedImageError):
        raise ValidationError(
            "The drawn signature could not be read. Clear it and draw again."
        ) from None
    # Something must be drawn: on a white page, some pixel must come out dark.
    on_white = Image.alpha_composite(Image.new("RGBA", drawn.size, "white"), drawn)
    ink_box = on_white.convert("L").point(lambda v: 255 if v < 200 else 0).getbbox()
    if ink_box is None:
        raise ValidationError("Draw your signature in the box, or choose to type it instead.")
    return data_url


def clean_signature(
    *,
    full_name: str,
    method: str,
    image: str,
    relationship: str,
    relationship_detail: str,
    agreed: bool,
    allowed_relationships: tuple[str, ...] = RELATIONSHIPS,
) -> tuple[SignatureInput | None, dict[str, str]]:
    """A checked signature, or the errors to show beside each part of the signature block."""
    errors: dict[str, str] = {}
    full_name = " ".join(full_name.split())[:150]
    relationship_detail = " ".join(relationship_detail.split())[:100]
    if has_null_character(full_name):
        errors["full_name"] = str(NULL_CHARACTERS_MESSAGE)
    elif len(full_name) < 2:
        errors["full_name"] = "Type your full name."
    if method not in ("drawn", "typed"):
        errors["method"] = "Draw your signature or adopt the typed one."
    elif method == "drawn":
        try:
            image = check_drawing(image)
        except ValidationError as error:
            errors["image"] = " ".join(error.messages)
    else:
        image = ""
    if relationship not in allowed_relationships:
        errors["relationship"] = "Say who is signing."
    elif relationship == "other" and not relationship_detail:
        errors["relationship_detail"] = "Describe your relationship to the client."
    elif relationship == "other" and has_null_character(relationship_detail):
        errors["relationship_detail"] = str(NULL_CHARACTERS_MESSAGE)
    if not agreed:
        errors["agreed"] = "Tick the box to agree to sign electronically."
    if errors:
        return None, errors
    return (
        SignatureInput(
            full_name=full_name,
            method=method,
            image=image,
            typed_text=full_name if method == "typed" else "",
            relationship=relationship,
            relationship_detail=relationship_detail if relationship == "other" else "",
            agreed=True,
        ),
        {},
    )
