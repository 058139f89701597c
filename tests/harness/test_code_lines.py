"""Tests of `harness.bench.code_lines`: what counts as a code line of the refactored sync."""

from __future__ import annotations

import textwrap

from harness.bench.code_lines import SYNC_PACKAGE, code_lines, sync_code_lines

SAMPLE = textwrap.dedent(
    '''\
    """A module docstring
    over two lines."""

    import os  # a trailing comment keeps its line


    # a comment alone
    class Settings:
        """A class docstring."""

        NAME = "value"

        def path(self) -> str:
            """A function docstring."""
            text = """a multi-line string
            that is not a docstring"""
            return os.path.join(
                text,
                self.NAME,
            )
    '''
)


def test_docstrings_comments_and_blank_lines_do_not_count() -> None:
    # import, class, NAME, def, the two lines of `text`, return and its three continuation lines.
    assert code_lines(SAMPLE) == 10


def test_a_string_that_is_not_first_in_its_body_counts() -> None:
    assert code_lines('x = 1\n"not a docstring"\n') == 2


def test_the_sync_is_counted_file_by_file_with_its_total() -> None:
    counted = sync_code_lines()

    package_files = {f"lambda/query-handler/inventory_sync/{path.name}" for path in SYNC_PACKAGE.glob("*.py")}
    assert package_files <= set(counted) and "lambda/shared/botocore_internals.py" in counted
    assert counted["total"] == sum(value for name, value in counted.items() if name != "total")
    assert all(value > 0 for value in counted.values())
