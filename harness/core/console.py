"""The shared rich consoles: results on stdout, progress and messages on stderr.

Keeping progress on stderr lets CI and scripts capture a command's result (a table,
a path, a verdict) without progress bars mixed in.
"""

from __future__ import annotations

from rich.console import Console

out = Console()
err = Console(stderr=True)
