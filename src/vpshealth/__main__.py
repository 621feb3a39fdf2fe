import sys

from vpshealth.cli.main import main

sys.exit(main())
