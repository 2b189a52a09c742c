"""The import contracts in ``.importlinter`` (docs/architecture-layers.md) hold, and they are
not vacuous: without its ignore entries the layers contract catches the known upward imports."""

from __future__ import annotations

import configparser
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"


def _lint(config: Path) -> int:
    return lint_imports(config_filename=str(config), no_cache=True)


def test_import_contracts_hold(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert _lint(CONFIG) == 0, "lint-imports: a contract is broken (its report is printed above)"


def test_the_layers_contract_catches_an_upward_import(monkeypatch, tmp_path):
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    parser.remove_option("importlinter:contract:layers", "ignore_imports")
    relaxed = tmp_path / "layers-without-ignores.ini"
    with relaxed.open("w") as handle:
        parser.write(handle)
    monkeypatch.chdir(ROOT)
    assert _lint(relaxed) == 1


def test_the_bench_contract_catches_an_app_importing_a_benchmark(monkeypatch, tmp_path):
    """Without its entries for the command shims, ``bench-apart`` fails: it does see the apps'
    imports of ``ari_review.bench`` (so a settings module or a service importing it would fail)."""
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    parser.remove_option("importlinter:contract:bench-apart", "ignore_imports")
    relaxed = tmp_path / "bench-without-ignores.ini"
    with relaxed.open("w") as handle:
        parser.write(handle)
    monkeypatch.chdir(ROOT)
    assert _lint(relaxed) == 1


def test_every_contract_is_checked():
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    contracts = {s.split(":")[-1]: dict(parser[s]) for s in parser.sections() if ":contract:" in s}
    assert {c["type"] for c in contracts.values()} == {"acyclic_siblings", "layers", "forbidden"}
    layers = contracts["layers"]["layers"].split()
    assert layers == ["training_jobs", "evaluation", "conversations", "ari_review"]
