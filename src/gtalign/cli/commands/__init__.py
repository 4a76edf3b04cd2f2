"""What each `gtalign` command runs, one module per layer (`gtalign.cli.<layer>` builds its parsers).

A module here is imported only when one of its commands runs: it imports the library at module level, the
parsers stay light.
"""
