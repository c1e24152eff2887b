"""A guard: no test sends the services a date written as a literal, which would expire one day.

Everything that meets the real services (the database, Redis, the gateway, a page) is async, or
a fixture; pure domain tests are plain functions with their own ``now``. So a date literal (an
ISO date string, or ``date(2026, …)`` / ``datetime(2026, …)``) may only be reached from plain
functions: a literal in an async function or a fixture, or in a helper or constant
that one of those uses, fails this test. Dates that meet the clock come from ``tests/dates.py``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ISO_DATE = re.compile(r"(?<!\d)2\d\d\d-[01]\d-[0-3]\d(?!\d)")
EXPLAINED = {TESTS / "dates.py", Path(__file__).resolve()}


def _is_date_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(ISO_DATE.search(node.value))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("date", "datetime")
    ):
        first = node.args[0] if node.args else None
        # Years 1 or 9999 are bounds (a fuzz test's range), not days that will one day have passed.
        return isinstance(first, ast.Constant) and isinstance(first.value, int) and 2000 <= first.value < 3000
    return False


def _top_level(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name, node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    yield target.id, node


def _meets_the_services(node: ast.AST) -> bool:
    """Async code and fixtures talk to the real services; plain functions do not."""
    if isinstance(node, ast.AsyncFunctionDef):
        return True
    if isinstance(node, ast.ClassDef):
        return any(isinstance(n, ast.AsyncFunctionDef) for n in ast.walk(node))
    if isinstance(node, ast.FunctionDef):
        return any("fixture" in ast.unparse(decorator) for decorator in node.decorator_list)
    return False


def expiring_dates(source: str) -> list[int]:
    """Lines of date literals that code meeting the services can reach."""
    tree = ast.parse(source)
    definitions = dict(_top_level(tree))
    uses = {
        name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in definitions}
        for name, node in definitions.items()
    }
    reached = {name for name, node in definitions.items() if _meets_the_services(node)}
    frontier = list(reached)
    while frontier:  # what services-facing code uses meets the services too
        for used in uses[frontier.pop()] - reached:
            reached.add(used)
            frontier.append(used)
    lines = []
    for name in reached:
        node = definitions[name]
        lines += [n.lineno for n in ast.walk(node) if _is_date_literal(n)]
    return sorted(lines)


def test_no_test_sends_the_services_a_date_that_will_expire() -> None:
    found = [
        f"{path.relative_to(TESTS.parent)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        if path not in EXPLAINED
        for line in expiring_dates(path.read_text(encoding="utf-8"))
    ]
    assert not found, f"use tests/dates.py instead of these date literals: {found}"


def test_the_guard_sees_a_literal_date_sent_from_async_code_or_a_helper_it_uses() -> None:
    sent = 'async def test_sign_up(gql):\n    await gql.ok(Q, {"startsOn": "2026-12-05"})\n'
    helper = (
        'def festival():\n    return {"startsOn": "2026-12-05"}\n\nasync def test_x(gql):\n    festival()\n'
    )
    constant = "T0 = datetime(2026, 12, 5)\n\n@pytest.fixture\ndef at():\n    return T0\n"
    pure = "T0 = datetime(2026, 12, 5)\n\ndef test_rule():\n    assert decide(T0)\n"
    bounds = "async def test_fuzz(gql):\n    await send(st.dates(date(1, 1, 1), date(9999, 12, 31)))\n"
    assert expiring_dates(sent) == [2]
    assert expiring_dates(helper) == [2]
    assert expiring_dates(constant) == [1]
    assert expiring_dates(pure) == []
    assert expiring_dates(bounds) == []
