"""The small kmalloc_obj scenario and its zalloc twin that the search, trace and timeline tests share."""

from pathlib import Path

from ztui.scenario.load import load_scenario

DATA = Path(__file__).parent / "data"
KMALLOC = load_scenario(DATA / "search-kmalloc-obj.toml")
ZALLOC = load_scenario(DATA / "search-zalloc.toml")
