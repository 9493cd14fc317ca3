import sys

from repo2desktop.cli import main

sys.exit(main())
