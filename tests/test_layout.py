"""The layout's rules, checked on the source: arrows go one way (api -> placement ->
optimiser, placement -> simulation -> optimiser), and each shared vocabulary is defined
once."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import optimiser.enums
import placement.enums

ROOT = Path(__file__).resolve().parent.parent


def imports(package: str) -> Iterator[tuple[Path, int, str, bool]]:
    """Every import in a package: file, line, module imported, and whether it sits at the
    top of the module (not inside a function)."""
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, node.lineno, alias.name, id(node) in top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                yield path, node.lineno, node.module, id(node) in top


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path, line, module, _ in imports(package)
        if module.split(".")[0] in forbidden
    ]


def test_the_optimiser_imports_nothing_of_ours() -> None:
    assert (
        offending("optimiser", ("placement", "api", "fixtures", "load_tests", "simulation")) == []
    )


def test_the_simulation_imports_only_the_optimiser() -> None:
    assert offending("simulation", ("placement", "api", "fixtures", "load_tests")) == []
    assert offending("api", ("simulation",)) == []


def test_the_api_reaches_the_optimiser_only_through_the_domain() -> None:
    assert offending("api", ("optimiser", "fixtures")) == []


def test_the_domain_imports_neither_the_api_nor_the_fixtures() -> None:
    assert offending("placement", ("api",)) == []
    fixtures = [
        (path.relative_to(ROOT).as_posix(), top)
        for path, _, module, top in imports("placement")
        if module.split(".")[0] == "fixtures"
    ]
    # Only the command line may load the generator, and only when a command needs it.
    assert {path for path, _ in fixtures} <= {"placement/cli.py"}
    assert not any(top for _, top in fixtures)


def test_shared_vocabularies_are_the_optimisers_own() -> None:
    shared = [
        name
        for name in dir(optimiser.enums)
        if isinstance(getattr(optimiser.enums, name), type) and name in vars(placement.enums)
    ]
    assert "RiskLevel" in shared and "SchemeType" in shared
    for name in shared:
        assert getattr(placement.enums, name) is getattr(optimiser.enums, name), name
