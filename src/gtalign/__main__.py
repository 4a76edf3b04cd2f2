"""`python -m gtalign`: the `gtalign` command line."""
from gtalign.cli import main

raise SystemExit(main())
