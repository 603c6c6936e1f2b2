"""Export formats: an explicit registry (jsonl, csv, ocsf, cef, syslog); names are unique."""
from . import cef, csvfile, jsonl, ocsf, rfc5424
from .base import Context, ExportFormat, FormatError, FormatRegistry

FORMATS = FormatRegistry()
for _module in (jsonl, csvfile, ocsf, cef, rfc5424):
    FORMATS.register(_module.FORMAT)

__all__ = ["FORMATS", "Context", "ExportFormat", "FormatError", "FormatRegistry"]
