"""The options shared by the commands that train: config, run directory, overrides, resume.

`medgate train` and `medgate train-and-gate` read their config the same way (a file, or
the embedded demo config, plus `--set` overrides) and register its token for redaction
before anything can print it.
"""

from __future__ import annotations

import argparse

from harness.app.defaults import load_default_config
from harness.core.config import MedgateConfig, load_config
from harness.core.secrets import register_secret
from suites.registry import apply_config


def add_run_options(parser: argparse.ArgumentParser, *, resume_help: str) -> None:
    parser.add_argument("-c", "--config", help="medgate.yaml (default: the embedded demo config)")
    parser.add_argument("--run-dir", help="run directory (default: output.run_dir or runs/<time>)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override any config key, e.g. training.max_steps=30 (repeatable)")
    parser.add_argument("--resume", action="store_true", help=resume_help)


def config_from_args(args: argparse.Namespace) -> MedgateConfig:
    """The config file (or the embedded default) with the overrides; its token registered."""
    config = (load_config(args.config, args.overrides) if args.config
              else load_default_config(args.overrides))
    register_secret(config.hf_token())  # redacted from every message from here on
    apply_config(config.evaluation)  # the user's suite specs known, suite options checked
    return config
