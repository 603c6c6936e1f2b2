"""The `appliance` command: parse args, call one service, print.

Each command group lives in its own module with a `register(subparsers)` function; COMMAND_MODULES
is the explicit registry (no plugin discovery on an air-gapped box).
"""
from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module

from ..errors import ApplianceError
from .common import close_services

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

COMMAND_MODULES = ("core", "docs", "eval", "pii", "audit", "serve", "users", "tune", "adapters")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="appliance",
        description="A self-hosted, privacy-first LLM appliance: ask questions over your own "
                    "documents with a local model; nothing leaves the box.")
    parser.add_argument("--data-dir", help="data directory (default: $APPLIANCE_DATA_DIR or ./data)")
    parser.add_argument("--settings", help="settings file (TOML); default <data-dir>/appliance.toml")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
    except ApplianceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    try:
        close_services()
    except ApplianceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = code or exc.exit_code
    return code
