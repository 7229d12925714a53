"""``make bench``'s commands (the Makefile's ``bench`` recipe) still take their arguments: each
script's own parser run on the recipe's arguments, in this process, stopped as it returns (before
anything is measured), and each script's ``--help`` in a process of its own (its imports)."""
from __future__ import annotations

import argparse
import importlib
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def bench_commands(makefile: str) -> list[tuple[str, list[str]]]:
    """The ``bench`` recipe's benchmark commands: ``(script, arguments)``, in order."""
    lines = makefile.replace("\\\n", " ").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("bench:"))
    out = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        words = shlex.split(line)
        if len(words) > 1 and words[0].endswith("/python") and words[1].startswith("benchmarks/"):
            out.append((words[1], words[2:]))
    return out


COMMANDS = bench_commands((ROOT / "Makefile").read_text())


def test_the_recipe_is_read_whole():
    """Every line of the recipe that names a benchmark script is one of the commands checked."""
    text = (ROOT / "Makefile").read_text()
    recipe = text[text.index("\nbench:"):].split("\n\n")[0]
    named = [line for line in recipe.splitlines() if "benchmarks/" in line and line.startswith("\t")]
    assert named and len(COMMANDS) == len(named)
    assert bench_commands("bench: x\n\t$(BIN)/python benchmarks/a.py --k 'v w'\n\t@echo\n\nother:\n"
                          "\t$(BIN)/python benchmarks/b.py\n") == [("benchmarks/a.py", ["--k", "v w"])]


class _Parsed(Exception):
    """Raised where the script's parser returns: nothing after it runs."""


@pytest.mark.parametrize("script, args", COMMANDS, ids=[f"{Path(s).stem}" for s, _ in COMMANDS])
def test_each_command_parses_its_arguments(script, args, monkeypatch):
    module = importlib.import_module(Path(script).stem)
    parse_args = argparse.ArgumentParser.parse_args
    seen = []

    def parse(self, argv=None, namespace=None):
        seen.append(parse_args(self, argv, namespace))  # argparse's SystemExit(2) on a bad argument
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse)
    with pytest.raises(_Parsed):
        module.main(args)
    assert len(seen) == 1


@pytest.mark.parametrize("script", sorted({s for s, _ in COMMANDS}), ids=lambda s: Path(s).stem)
def test_each_script_answers_help(script):
    proc = subprocess.run([sys.executable, str(ROOT / script), "--help"], capture_output=True, text=True,
                          timeout=120, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("usage: ")
