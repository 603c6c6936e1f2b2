"""The `appliance` command: parse args, call one service, print.

Each command group lives in its own module with a `register(subparsers)` function; COMMAND_MODULES
is the explicit registry (no plugin discovery on an air-gapped box).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib import import_module

from ..errors import ApplianceError
from .common import close_services

__all__ = ["COMMAND_MODULES", "build_parser", "main", "run"]

COMMAND_MODULES = ("core", "docs", "eval", "pii", "audit", "serve", "users", "tune", "adapters",
                   "quality", "sources", "erase", "models", "nodes")


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
    except BrokenPipeError:  # the reader went away (`appliance search … | head`)
        code = 141
    try:
        close_services()
    except ApplianceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = code or exc.exit_code
    return code


def run() -> None:
    """The `appliance` command: main(), then exit without tearing the interpreter down.

    By then everything is written and closed (main() closes the services: the last audit
    checkpoint, the store); what is left is freeing the model and the libraries' memory,
    half a second that nobody waits for on purpose."""
    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe
            code = code or 141
    os._exit(code)
