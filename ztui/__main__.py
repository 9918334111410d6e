"""`python -m ztui`: the same as the `ztui` command."""

from ztui.cli import main

if __name__ == "__main__":  # not when a spawned worker (a Dask LocalCluster's) imports the main module
    main()
