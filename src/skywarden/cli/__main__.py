"""``python -m skywarden.cli``."""

from skywarden.cli import main

raise SystemExit(main())
