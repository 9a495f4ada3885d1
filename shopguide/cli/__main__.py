"""`python -m shopguide.cli`: the command line, as the `shopguide` script runs it."""

from shopguide.cli import main

raise SystemExit(main())
