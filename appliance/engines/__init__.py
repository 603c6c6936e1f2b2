"""One wrapper per heavy library, each behind a small Protocol (see protocols.py)."""
