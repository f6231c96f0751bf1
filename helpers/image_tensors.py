"""Conversions between the uint8 images people look at and the [-1, 1] tensors models use,
and image grids. One place for each direction, like ``va.py`` for ratings."""

import numpy as np
import torch
from PIL import Image


def to_tensor(images: np.ndarray, device="cpu") -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W) in [-1, 1]."""
    tensor = torch.as_tensor(np.ascontiguousarray(images), device=device)
    return tensor.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float (N, 3, H, W) in [-1, 1] -> uint8 (N, H, W, 3)."""
    images = images.detach().float().clamp(-1, 1).add(1).mul(127.5).round()
    return images.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def grid(images: np.ndarray, columns: int, padding: int = 2, background: int = 255) -> np.ndarray:
    """Tile uint8 (N, H, W, 3) images into one uint8 image, row by row."""
    count, height, width, _ = images.shape
    rows = -(-count // columns)
    out = np.full((rows * (height + padding) + padding, columns * (width + padding) + padding, 3), background, np.uint8)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = padding + row * (height + padding), padding + column * (width + padding)
        out[top:top + height, left:left + width] = image
    return out


def save_png(image: np.ndarray, path) -> None:
    Image.fromarray(image).save(path)
