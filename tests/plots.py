"""What the tests check of a written plot: the file is a PNG image."""

from pathlib import Path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
"""The eight bytes every PNG file starts with."""


def is_png(path: Path) -> bool:
    """True when ``path`` starts with the PNG signature."""
    return path.read_bytes()[:8] == PNG_MAGIC
