"""The embedded default config (demo.yaml): what runs when the user gives no -c."""

from __future__ import annotations

from pathlib import Path

from harness.core.config import MedgateConfig, load_config

DEMO_CONFIG = Path(__file__).parent / "demo.yaml"


def load_default_config(overrides: list[str] | None = None) -> MedgateConfig:
    """demo.yaml with `--set KEY=VALUE` overrides applied."""
    return load_config(DEMO_CONFIG, overrides)
