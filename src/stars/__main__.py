"""Run the ``stars`` command with ``python -m stars``."""

from __future__ import annotations

import sys

from stars.cli import main

if __name__ == "__main__":
    sys.exit(main())
