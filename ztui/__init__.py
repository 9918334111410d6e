"""ztui: DragonFly BSD's VM under memory pressure, step by step."""

__version__ = "0.1.0"
