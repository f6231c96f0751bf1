"""Decoding one image file into a square uint8 RGB array of the training size.

Every mode Pillow reads becomes 8-bit RGB the same way, EXIF rotation is applied, and the
image is resized on its short side and centre-cropped with an antialiased filter (Lanczos).
A file that cannot be decoded raises ``ImageProblem`` with a reason a person can act on.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")

# Larger than any photo a user is likely to have, smaller than a decompression bomb.
Image.MAX_IMAGE_PIXELS = 200_000_000


class ImageProblem(ValueError):
    """One image cannot be used; the message says why and what to do."""


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any Pillow mode.

    16-bit and 32-bit greyscale are scaled by their own range (Pillow's plain convert would
    clip them to white); transparency is flattened onto white, since a transparent sky
    reads as empty, not black.
    """
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        grey = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image).convert("RGB")
    return image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV, RGB


def resize_square(image: Image.Image, size: int) -> Image.Image:
    """Resize the short side to ``size`` (Lanczos, antialiased) and crop the centre square."""
    width, height = image.size
    scale = size / min(width, height)
    new_size = (max(size, round(width * scale)), max(size, round(height * scale)))
    # reducing_gap first shrinks huge images by fast box averaging, then finishes with Lanczos.
    image = image.resize(new_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    left = (new_size[0] - size) // 2
    top = (new_size[1] - size) // 2
    return image.crop((left, top, left + size, top + size))


def decode_image(path, size: int) -> np.ndarray:
    """A (size, size, 3) uint8 array from an image file, or ``ImageProblem``."""
    path = Path(path)
    try:
        with Image.open(path) as image:
            if image.format == "JPEG":
                image.draft("RGB", (size * 2, size * 2))  # decode huge JPEGs at a reduced scale
            image.load()  # a truncated file fails here, not later in the middle of training
            image = ImageOps.exif_transpose(image)
            rgb = _to_rgb(image)
    except Image.DecompressionBombError as error:
        raise ImageProblem(f"too large to decode safely ({error}); downscale it first") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageProblem(f"cannot decode ({error}); re-export the image or remove it") from error
    if min(rgb.size) < 8:
        raise ImageProblem(f"only {rgb.size[0]}x{rgb.size[1]} pixels; too small to be a training image")
    return np.asarray(resize_square(rgb, size), dtype=np.uint8)
