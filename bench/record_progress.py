"""Record the terminal during `medgate eval` as SVG (docs/medgate-eval-progress.svg).

Runs the `medgate eval` command in this process with its stderr console swapped for a
recording one that behaves as a terminal (so the progress bars draw), then exports what
was shown with rich's own SVG export:

    python -m bench.record_progress [--suites medqa,safety] [--limit 24]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from harness.app import evaluation
from harness.app.cli import main as cli_main
from harness.core import console, progress

DOCS = Path(__file__).resolve().parents[1] / "docs"


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", default="medqa,pubmedqa,safety")
    parser.add_argument("--limit", type=int, default=24)
    parser.add_argument("--out", type=Path, default=DOCS / "medgate-eval-progress.svg")
    args = parser.parse_args(argv if argv is not None else [])
    recorder = Console(record=True, force_terminal=True, width=110, file=io.StringIO(),
                       stderr=True)
    console.err, evaluation.err = recorder, recorder
    progress.RECORDING = True  # one final frame per bar; other libraries' output not kept
    with tempfile.TemporaryDirectory(prefix="medgate-record-") as tmp:
        code = cli_main(["eval", "--suites", args.suites, "--limit", str(args.limit),
                         "--no-cache", "--run-dir", str(Path(tmp) / "run")])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    recorder.save_svg(str(args.out), title=f"medgate eval --suites {args.suites} "
                                            f"--limit {args.limit}")
    print(f"exit {code}; recording: {args.out}")
    return args.out


if __name__ == "__main__":
    main(sys.argv[1:])
