"""A run on SQLite says how many tests it left for PostgreSQL and the one command that runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import POSTGRES_COMMAND

ROOT = Path(__file__).resolve().parent.parent
LEFT_FOR_POSTGRES = ("tests/test_migrations.py::test_upgrade_downgrade_upgrade_on_a_fresh_postgresql_database",
                     "tests/test_transactions.py::test_two_requests_that_deadlock_on_postgresql_both_apply_once")


def test_a_sqlite_run_counts_the_tests_left_for_postgresql_and_names_the_command():
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_pages.py::test_healthz",
         *LEFT_FOR_POSTGRES],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 tests skipped for want of PostgreSQL" in run.stdout, run.stdout
    assert f"Run them with: {POSTGRES_COMMAND}" in run.stdout
    assert "1 passed, 2 skipped" in run.stdout


def test_the_command_selects_exactly_the_tests_that_need_postgresql():
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only", "-m", "postgres",
         "tests/test_pages.py", "tests/test_migrations.py", "tests/test_transactions.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    selected = sorted(line for line in run.stdout.splitlines() if "::" in line)
    assert selected == sorted(LEFT_FOR_POSTGRES), run.stdout
