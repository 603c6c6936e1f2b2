"""The appliance: a self-hosted, privacy-first LLM appliance over your own documents."""
from __future__ import annotations

import os

# ONNX Runtime (1.32 and later) sends usage telemetry to Microsoft from Linux too, unless this
# is set before it loads: the query encoder uses it, and nothing may leave the box.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

__version__ = "0.1.0"
__all__ = ["__version__", "Appliance", "build_services", "create_app"]


def __getattr__(name: str):
    # Lazy so `import appliance` stays light (no torch, no llama) until a service is needed.
    if name in ("Appliance", "build_services"):
        from . import services

        return getattr(services, name)
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
