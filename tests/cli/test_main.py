import json
import subprocess
import sys

import pytest

from qnetai import __version__
from qnetai.cli.main import main


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"qnetai {__version__}"


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "chain", "scenario", "qkd"):
        assert command in out


def test_console_script_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "qnetai.cli.main", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert __version__ in proc.stdout


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


#: Libraries ``qnetai --help`` must not import (start-up time; benchmarks/README.md).
HEAVY = ("numpy", "scipy", "pandas", "plotly", "torch", "numba", "sklearn", "duckdb", "pyarrow")


def _modules_after(argv: list[str]) -> set[str]:
    """The top-level modules imported by ``qnetai ARGV`` in a fresh interpreter."""
    code = (
        "import json, sys\n"
        "from qnetai.cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print('\\n@@' + json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.rsplit("\n@@", 1)[1]))


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["qkd", "simulate", "--help"]])
def test_help_imports_no_heavy_library(argv):
    modules = _modules_after(argv)
    assert not {m.split(".")[0] for m in modules} & set(HEAVY)
    assert "qnetai.config.models" not in modules


def test_run_imports_neither_pandas_nor_scipy_stats(tmp_path):
    modules = _modules_after(
        ["run", "--out", str(tmp_path / "r"), "--no-report", "--json", "--duration-s", "0.2"]
    )
    assert "pyarrow" in modules and "qnetai.sim.engine" in modules
    assert not {"pandas", "scipy.stats", "plotly", "torch"} & modules


def test_skipped_pandas_probe_keeps_to_pandas_working():
    code = (
        "import sys\n"
        "from qnetai.cli._common import skip_pandas_probe\n"
        "skip_pandas_probe()\n"
        "import pyarrow as pa\n"
        "t = pa.table({'a': [1, 2]})\n"
        "assert 'pandas' not in sys.modules\n"
        "assert t.to_pandas()['a'].tolist() == [1, 2]\n"
        "import pandas as pd\n"
        "assert pa.Table.from_pandas(pd.DataFrame({'b': [3]})).num_rows == 1\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_cli_copies_of_defaults_match_their_sources():
    # written out in the command modules so that --help imports neither numpy nor pydantic
    from qnetai.cli.qkd_cmd import CHANNEL_DEFAULTS
    from qnetai.cli.qkd_simulate_cmd import RECONCILIATION_METHODS
    from qnetai.config.models import RECONCILIATION_METHODS as CONFIG_METHODS
    from qnetai.qkd.channel import DEFAULT_CHANNEL

    assert CHANNEL_DEFAULTS == DEFAULT_CHANNEL.to_dict()
    assert RECONCILIATION_METHODS == CONFIG_METHODS
