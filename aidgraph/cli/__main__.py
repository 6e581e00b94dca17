"""`python -m aidgraph.cli`: the `aidgraph` command without its installed script."""

from aidgraph.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
