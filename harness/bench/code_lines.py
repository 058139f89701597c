"""The refactored sync's size: its code lines, without docstrings, comments and blank lines (issue budget: 800).

Counted over the package `lambda/query-handler/inventory_sync/` and the shared helpers only it uses
(`lambda/shared/botocore_internals.py`). A line counts when it holds a token of code; a line that is only part of a
docstring (a string statement first in a module, class or function), a comment or blank does not.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

from harness.lambda_env import REPO_ROOT

SYNC_PACKAGE = REPO_ROOT / "lambda" / "query-handler" / "inventory_sync"
SYNC_ONLY_SHARED = (REPO_ROOT / "lambda" / "shared" / "botocore_internals.py",)
NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}


def docstring_lines(tree: ast.Module) -> set[int]:
    """The line numbers of the docstrings of a module and of every class and function in it."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            value = first.value if isinstance(first, ast.Expr) else None
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and first.end_lineno is not None:
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def code_lines(source: str) -> int:
    """How many lines of `source` hold code: a token that is not a comment, and not part of a docstring."""
    docstrings = docstring_lines(ast.parse(source))
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in NOT_CODE:
            lines.update(line for line in range(token.start[0], token.end[0] + 1) if line not in docstrings)
    return len(lines)


def sync_code_lines() -> dict[str, int]:
    """Code lines per file of the refactored sync (paths relative to the repository), and their `total`."""
    files = sorted(SYNC_PACKAGE.glob("*.py")) + list(SYNC_ONLY_SHARED)
    counted = {str(path.relative_to(REPO_ROOT)): code_lines(Path(path).read_text(encoding="utf-8")) for path in files}
    return {**counted, "total": sum(counted.values())}
