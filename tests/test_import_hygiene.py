"""The simulator core and the scenario loader never import Textual."""

import subprocess
import sys


def test_core_does_not_import_textual():
    code = (
        "import sys\n"
        "import ztui.core.simulator, ztui.scenario.load, ztui.cli\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
