"""``python -m mentormatch``: the same command as the installed ``mentormatch`` entry point."""
import sys

from .cli import main

if __name__ == "__main__":  # (imported otherwise, e.g. by a collector: nothing runs)
    sys.exit(main())
