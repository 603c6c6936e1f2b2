"""python -m appliance → the CLI."""
from .cli import run

run()
