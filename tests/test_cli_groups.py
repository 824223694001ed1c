"""The command line builds only the named command's group (skywarden.cli.COMMAND_GROUPS):
the table matches what each module adds, ``--help`` still lists every command, and a
``track`` of a CSV imports neither the other command modules nor the service."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skywarden import cli

SRC = Path(__file__).resolve().parents[1] / "src"


def _commands(module) -> set[str]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    module.add_parsers(sub)
    return set(sub.choices)


@pytest.mark.parametrize("group", sorted(cli.COMMAND_GROUPS))
def test_each_group_adds_the_commands_the_table_names(group: str) -> None:
    (module,) = cli.command_modules(group)
    assert _commands(module) == set(cli.COMMAND_GROUPS[group])


def test_help_lists_every_command(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    shown = capsys.readouterr().out
    for commands in cli.COMMAND_GROUPS.values():
        for command in commands:
            assert command in shown


def test_track_of_a_csv_imports_only_its_own_command_module(tmp_path: Path) -> None:
    dets = tmp_path / "dets.csv"
    dets.write_text("t,x,y,z\n0,0,0,0\n1,10,0,0\n")
    code = (
        "import sys\n"
        "from skywarden.cli import main\n"
        f"main(['track', {str(dets)!r}, '--out', {str(tmp_path / 'tracks.csv')!r}, '--quiet'])\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('skywarden.'))))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    loaded = set(out)
    assert "skywarden.cli.track" in loaded
    for other in ("simulate", "evaluate", "service", "users"):
        assert f"skywarden.cli.{other}" not in loaded
    assert not any(m.startswith(("skywarden.server", "skywarden.service")) for m in loaded)
