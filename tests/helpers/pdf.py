"""The text of a PDF, to check what a rendered document says."""

import io

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    """The PDF's text on one line; a line broken after a hyphen ("die-|casting") joined."""
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages).replace("-\n", "-")
    return " ".join(text.split())
