"""`python -m bertdemo` runs the CLI."""

import sys

from bertdemo.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
