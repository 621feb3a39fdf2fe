"""The frozen bundle's entry point: the same `main` as the `vpshealth` console script."""

import sys

from vpshealth.launcher import main

if __name__ == "__main__":
    sys.exit(main())
