import sys

from outcomes.cli import main

if __name__ == "__main__":
    sys.exit(main())
