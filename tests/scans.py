"""Scanned copies of PDF reports, as a scanner gives them: pages rendered at 200 dpi, turned
a little, grey paper, speckles; saved as an image-only PDF (no text layer)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

DPI = 200


def scan_image(pdf_path: Path, page_number: int, *, skew: float = 0.6, turn: int = 0, seed: int = 1) -> Image.Image:
    """One page (1-based) as a scan; `turn` degrees counter-clockwise for a page fed in sideways
    or upside down."""
    pdf = pdfium.PdfDocument(pdf_path)
    image = pdf[page_number - 1].render(scale=DPI / 72, grayscale=True).to_pil().convert("L")
    pdf.close()
    image = image.rotate(skew, resample=Image.BICUBIC, fillcolor=255)
    pixels = np.asarray(image, dtype=np.float32) * 0.85 + 20  # grey paper, weaker black
    noise = np.random.default_rng(seed).random(pixels.shape)
    pixels[noise < 0.002] = 0
    pixels[noise > 0.999] = 255
    image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    return image.rotate(turn, expand=True) if turn else image


def image_pdf(images: list[Image.Image], path: Path, dpi: int = DPI) -> Path:
    images[0].save(path, save_all=True, append_images=images[1:], resolution=dpi)
    return path


def scanned_copy(pdf_path: Path, pages: list[int], path: Path) -> Path:
    """An image-only PDF of these pages (1-based) of a report."""
    return image_pdf([scan_image(pdf_path, n, seed=n) for n in pages], path)
