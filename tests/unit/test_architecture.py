"""Layering: the web layer (``hedgerow.api``) and the compiler (``hedgerow.hogql``) never import
the stores.

Imports are read from the source with ``ast`` — every ``import`` and ``from ... import``
anywhere in a module, including inside functions, with relative imports resolved — so an
import that only runs on one code path is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hedgerow

PACKAGE_ROOT = Path(hedgerow.__file__).parent


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Every module ``path`` (or ``source``, read as if it were at ``path``) imports, as
    absolute dotted names."""
    package = ".".join(("hedgerow", *path.relative_to(PACKAGE_ROOT).with_suffix("").parts))
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    text = path.read_text() if source is None else source
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _store_imports(package: str) -> set[str]:
    return {
        f"{path.relative_to(PACKAGE_ROOT)}: {module}"
        for path in sorted((PACKAGE_ROOT / package).rglob("*.py"))
        for module in imported_modules(path)
        if module == "hedgerow.store" or module.startswith("hedgerow.store.")
    }


def test_api_never_imports_the_stores() -> None:
    offenders = _store_imports("api")
    assert not offenders, sorted(offenders)


def test_the_compiler_never_imports_the_stores() -> None:
    """The stores build on the compiler (its layout facts, such as the hot property columns,
    live in ``hedgerow.hogql``), never the other way round."""
    offenders = _store_imports("hogql")
    assert not offenders, sorted(offenders)


def test_the_import_reader_sees_nested_and_relative_imports() -> None:
    source = "def f():\n    from ...store.meta import keys\n    import hedgerow.store.events\n"
    found = imported_modules(PACKAGE_ROOT / "api" / "routes" / "probe.py", source)
    assert {"hedgerow.store.meta", "hedgerow.store.meta.keys", "hedgerow.store.events"} <= found


def test_starting_the_server_or_the_cli_does_not_import_scipy() -> None:
    """SciPy costs about half a second to import: only an experiment's statistics load it."""
    import subprocess
    import sys

    probe = ("import sys, hedgerow.cli.main, hedgerow.api.app, hedgerow.services.container, "
             "hedgerow.experiments.results; print(sum(m.split('.')[0] == 'scipy' for m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0", f"{out.stdout.strip()} SciPy modules imported at start"


def test_the_cli_commands_load_the_http_server_and_the_mcp_sdk_only_when_they_serve() -> None:
    """``hedgerow bootstrap``, ``keys`` etc. (run by operators and by every live test's set-up)
    start without uvicorn, Starlette or the MCP SDK: about 0.8 s of CPU at each start."""
    import json
    import subprocess
    import sys

    probe = "import json, sys, hedgerow.cli.main; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    serving = set(json.loads(out.stdout)) & {"uvicorn", "starlette", "mcp", "mcp_types"}
    assert not serving, f"{sorted(serving)} imported by the CLI at start"
