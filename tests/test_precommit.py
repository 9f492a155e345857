"""pre-commit: the hooks of .pre-commit-hooks.yaml, run by pre-commit itself on a project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent


def test_hook_definitions() -> None:
    """Two hooks: validate takes the vehicle files, lint runs once on catalog/rules changes."""
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"cmf-config-validate", "cmf-config-lint"}
    assert hooks["cmf-config-validate"]["entry"] == "cmf-config validate"
    assert hooks["cmf-config-lint"]["pass_filenames"] is False
    assert all(h["language"] == "python" for h in hooks.values())


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_try_repo_runs_the_hooks(tmp_path: Path) -> None:
    """`pre-commit try-repo` in a fresh git repository made by `cmf-config init`: pre-commit
    installs cmf-config from this checkout (language: python, no network beyond the package
    index pip is configured with), both hooks pass, then a broken vehicle file fails validate
    with the file:line:column message."""
    project = tmp_path / "project"
    subprocess.run([str(BIN / "cmf-config"), "init", str(project)], check=True, capture_output=True)
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "init")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))

    def try_repo(hook: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "pre-commit"), "try-repo", str(ROOT), hook, "--all-files"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    done = try_repo("cmf-config-validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cmf-config validate" in done.stdout
    assert "Passed" in done.stdout
    done = try_repo("cmf-config-lint")
    assert done.returncode == 0, done.stdout + done.stderr
    example = project / "configs" / "example.yaml"
    example.write_text(
        example.read_text(encoding="utf-8").replace("brand: dacia", "brand: dacai"),
        encoding="utf-8",
    )
    _git(project, "commit", "-q", "-am", "typo")
    done = try_repo("cmf-config-validate")
    assert done.returncode == 1
    assert "Failed" in done.stdout
    assert "configs/example.yaml:6:8: error E230: unknown brand 'dacai'" in done.stdout
