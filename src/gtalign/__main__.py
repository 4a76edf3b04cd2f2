from gtalign.cli import main

raise SystemExit(main())
