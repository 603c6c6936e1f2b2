"""Helpers shared by the command modules: settings from args, services, JSON output."""
from __future__ import annotations

import json
import sys
from typing import Any

from ..settings import Settings, load_settings


def settings_from(args) -> Settings:
    return load_settings(overrides={"data_dir": args.data_dir}, settings_file=args.settings)


_OPEN: list = []


def services_from(args):
    """Wire the services for this command; main() closes them (final audit checkpoint)."""
    from ..services import build_services

    app = build_services(settings_from(args))
    _OPEN.append(app)
    return app


def close_services() -> None:
    while _OPEN:
        _OPEN.pop().close()


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def show_progress(args) -> bool:
    return not getattr(args, "json", False) and sys.stderr.isatty()


def ago(seconds: float) -> str:
    """A duration for people: "42 s", "17 min", "3.5 h"."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
