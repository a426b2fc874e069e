"""`python -m bertdemo`: the argparse front end, the only place that prints."""

from bertdemo.cli.main import main

__all__ = ["main"]
