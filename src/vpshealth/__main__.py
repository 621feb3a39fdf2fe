import sys

from vpshealth.launcher import main

sys.exit(main())
