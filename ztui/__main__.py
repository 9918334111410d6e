"""`python -m ztui`: the same as the `ztui` command."""

from ztui.cli import main

main()
