"""The `ztui` commands, one module each, imported only when ztui.cli runs one (see ztui.cli.COMMANDS)."""
