"""PDF renderings of the rendered HTML documents, for a regulator's file.

Headless Chromium's print-to-PDF prints the very pages a reviewer reads in a browser
(same HTML, same stylesheet), so the PDF cannot say something the page does not; a PDF
library would need a second layout of every document. The pages load nothing from the
network (their Content-Security-Policy forbids it), so printing needs no network either.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.core.errors import InternalError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--no-pdf-header-footer"]
TIMEOUT_S = 120


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def print_to_pdf(page: Path, chromium: str) -> bytes:
    """The PDF bytes of an HTML file, as Chromium prints it."""
    if not page.is_file():
        raise InternalError(f"{page}: no page to print")
    with tempfile.TemporaryDirectory(prefix="medgate-pdf-") as tmp:
        out = Path(tmp) / "page.pdf"
        try:
            proc = subprocess.run(
                [chromium, *_FLAGS, f"--user-data-dir={tmp}/profile", f"--print-to-pdf={out}",
                 page.resolve().as_uri()],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT_S,
                check=False)
        except subprocess.TimeoutExpired as exc:
            raise InternalError(f"{page}: Chromium did not print it within {TIMEOUT_S} s") from exc
        data = out.read_bytes() if out.is_file() else b""
        if proc.returncode != 0 or not data.startswith(b"%PDF-"):
            tail = (proc.stderr or "").strip().splitlines()[-3:]
            raise InternalError(f"{page}: Chromium's print-to-PDF failed (exit "
                                f"{proc.returncode}): {' | '.join(tail)}")
        return data
