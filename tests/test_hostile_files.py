"""Issue 10, classes 2, 4 and 6: deep nesting, files that are not regular or too big, machines that boot broken."""

import gzip
import json
import os
import subprocess
import sys

import pytest
from hostile import assert_refused, small_scenario, ztui

from ztui.core.boot import boot
from ztui.core.views import vmstats_dict
from ztui.input_files import MAX_NESTING, SCENARIO, TRACE, InputError, read_bytes
from ztui.scenario.load import check_scenario, load_scenario
from ztui.tui.keymap import load_keymap
from ztui.tui.themes import ThemeFileError, load_theme

DEEP_TOML = [
    "a = " + "[" * 500 + "]" * 500,  # past tomllib's recursion
    "a = " + "{b = " * 500 + "1" + "}" * 500,
    "[machine]\nphysmem = " + "[" * (MAX_NESTING + 2) + "]" * (MAX_NESTING + 2),  # parses, then refused
]


# --- class 2: deep nesting ---------------------------------------------------------


@pytest.mark.parametrize("text", DEEP_TOML, ids=["array", "inline-table", "just-past-the-limit"])
def test_deeply_nested_scenarios_keymaps_and_themes_are_one_problem(tmp_path, text):
    path = tmp_path / "deep.toml"
    path.write_text(text + "\n")
    too_deep = f"arrays or tables nested more than {MAX_NESTING} deep; no ztui file needs that"
    assert check_scenario(path) == [f"{path}: {too_deep}"]
    assert_refused(ztui("run", path), "nested more than")
    keymap, problems = load_keymap(path)
    assert keymap == {} and len(problems) == 1 and "nested more than" in problems[0]
    with pytest.raises(ThemeFileError, match="nested more than"):
        load_theme(path)


def test_a_deeply_nested_trace_is_one_problem(tmp_path):
    path = tmp_path / "deep.trace"
    path.write_text('{"format": "ztui-trace", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert_refused(ztui("replay", path), "nested more than")
    path.write_bytes(gzip.compress(path.read_bytes()))
    assert_refused(ztui("replay", path), "nested more than")


def test_real_files_are_well_within_the_nesting_limit(tmp_path):
    trace = tmp_path / "t.trace"
    assert ztui("run", small_scenario(tmp_path), "--trace", trace, "--quiet").returncode == 0

    def depth(value, level=0):
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        return max((depth(child, level + 1) for child in children), default=level)

    assert depth(json.loads(trace.read_text())) <= MAX_NESTING // 2


# --- class 4: what is read, and how much ----------------------------------------------


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo.toml"
    os.mkfifo(path)
    return path


def test_fifos_devices_and_directories_are_refused_without_blocking(tmp_path, fifo):
    # In a child process with a timeout: an open that blocks would hang this test, not pass it.
    code = (
        "import sys\n"
        "from ztui.tui.keymap import load_keymap\n"
        "from ztui.tui.themes import load_theme, ThemeFileError\n"
        "for path in sys.argv[1:]:\n"
        "    print(load_keymap(__import__('pathlib').Path(path))[1][0])\n"
        "    try:\n"
        "        load_theme(__import__('pathlib').Path(path))\n"
        "    except ThemeFileError as error:\n"
        "        print(error)\n"
    )
    paths = [fifo, "/dev/zero", tmp_path]
    out = subprocess.run([sys.executable, "-c", code, *map(str, paths)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert sum("a FIFO, not a regular file" in line for line in lines) == 2
    assert sum("a device, not a regular file" in line for line in lines) == 2
    assert sum("is a directory" in line for line in lines) == 2
    for path, words in ((fifo, "a FIFO"), ("/dev/zero", "a device"), (tmp_path, "is a directory")):
        assert_refused(ztui("replay", path, timeout=60), words)
        result = ztui("check", path, timeout=60)
        assert result.returncode == 2 and words in result.stdout.decode()


def test_a_file_larger_than_its_kind_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.toml"
    with path.open("wb") as out:
        out.truncate(SCENARIO.max_bytes + 1)  # sparse: nothing to read, the size alone refuses it
    assert check_scenario(path) == [f"{path}: 1048577 bytes; a scenario is at most 1m"]
    trace = tmp_path / "big.trace"
    with trace.open("wb") as out:
        out.truncate(TRACE.max_bytes + 1)
    with pytest.raises(InputError, match="^8388609 bytes; a trace is at most 8m uncompressed$"):
        read_bytes(trace, TRACE)


@pytest.mark.parametrize("uncompressed", [TRACE.max_bytes + 1, 64 << 20])
def test_a_gzip_bomb_stops_at_the_limit(tmp_path, uncompressed):
    path = tmp_path / "bomb.trace.gz"
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"{" + b" " * (uncompressed - 2) + b"}")
    assert path.stat().st_size < 200_000
    code = (
        "import sys\n"
        "from ztui.memory import peak_rss_bytes\n"
        "from ztui.trace import read_trace, TraceError\n"
        "try:\n"
        "    read_trace(sys.argv[1])\n"
        "except TraceError as error:\n"
        "    print(error)\n"
        "print(peak_rss_bytes() // 2**20)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    message, peak_mb = out.stdout.splitlines()
    assert message.endswith("more than 8m uncompressed; a trace is at most 8m uncompressed")
    assert int(peak_mb) < 120  # the bytes held stop at the limit (about 55 MB in all, with the interpreter)
    assert_refused(ztui("replay", path), "more than 8m uncompressed")


@pytest.mark.parametrize(
    "data, words",
    [
        (gzip.compress(b"{}")[:-4], "truncated gzip data"),
        (gzip.compress(b"{}") + b"junk", "something other than gzip"),
        (b"\x1f\x8b" + b"\x00" * 30, "corrupt gzip data"),
    ],
)
def test_damaged_gzip_is_one_problem(tmp_path, data, words):
    path = tmp_path / "bad.trace.gz"
    path.write_bytes(data)
    assert_refused(ztui("replay", path), words)


def test_gzip_members_back_to_back_and_zero_padding_are_read(tmp_path):
    path = tmp_path / "two.gz"
    path.write_bytes(gzip.compress(b"ab") + gzip.compress(b"cd") + b"\0" * 8)
    assert read_bytes(path, TRACE) == b"abcd"


# --- class 6: machines boot leaves without free pages ----------------------------------


def machine(tmp_path, lines: str) -> str:
    path = tmp_path / "m.toml"
    path.write_text(lines + '\n[[process]]\nname = "hog"\nphases = [{op = "alloc", pages = 1}]\n')
    return path


@pytest.mark.parametrize(
    "lines",
    [
        '[machine]\nphysmem = "8m"\n[allocators]\nswapmeta = "kmalloc_obj"\nkmslab_cache = 80',  # slabs > RAM
        '[machine]\nphysmem = "8m"\n[allocators]\nkmslab_cache = 1000000000',
        '[machine]\nphysmem = "8m"\ndma_reserved = "4m"\nkernel_wired = "4092k"',  # DMA + wired leave 1 page
        '[machine]\nphysmem = "8m"\nncpus = 64\n[allocators]\nkmslab_cache = 1',  # 64 CPUs x 1 slab
    ],
)
def test_a_machine_boot_leaves_without_free_pages_is_refused_with_the_count(tmp_path, lines):
    path = machine(tmp_path, lines)
    [problem] = check_scenario(path)
    assert problem.startswith(f"{path}: machine: found boot leaves ")
    assert "pages free (v_free_count" in problem and "boot must leave more than v_free_min" in problem
    assert_refused(ztui("run", path), "boot leaves")


def test_the_boot_rule_is_free_above_v_free_min_exactly(tmp_path):
    # Find the kernel_wired at which boot leaves exactly v_free_min free pages: refused; one page less wired: fine.
    base = machine(tmp_path, '[machine]\nphysmem = "8m"\ndma_reserved = "0k"\nkernel_wired = "0k"')
    vmstats = vmstats_dict(boot(load_scenario(base), 0))
    wired_pages = vmstats["v_free_count"] - vmstats["v_free_min"]
    at_minimum = machine(tmp_path, f'[machine]\nphysmem = "8m"\ndma_reserved = "0k"\nkernel_wired = "{wired_pages} pages"')
    [problem] = check_scenario(at_minimum)
    assert f"boot leaves {vmstats['v_free_min']:,} of" in problem
    above = machine(tmp_path, f'[machine]\nphysmem = "8m"\ndma_reserved = "0k"\nkernel_wired = "{wired_pages - 1} pages"')
    assert check_scenario(above) == []


def test_a_terabyte_machine_checks_and_boots(tmp_path):
    path = machine(tmp_path, '[machine]\nphysmem = "1t"\nswap = "1g"')
    assert check_scenario(path) == []
    assert vmstats_dict(boot(load_scenario(path), 0))["v_page_count"] == 1 << 28
