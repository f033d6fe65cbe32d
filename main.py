"""Run Siamark from a source checkout: ``python main.py [VIDEO]`` or ``python main.py --demo``."""

import sys

from app.main import main

if __name__ == "__main__":
    sys.exit(main())
