"""A real flytekit task reads its secret from `coffer run --flyte` (and `--flyte-files`).

flytekit comes from PyPI into a virtual environment kept under .build/flyte-venv (COFFER_FLYTE_VENV),
so later runs do not download it again. Skipped, saying so, only when the package index cannot be
reached; any other install failure fails the test."""
import os
import subprocess
import sys
import urllib.request

import pytest

TASK = '''
import flytekit
from flytekit import Secret, task


@task(secret_requests=[Secret(group="pg", key="password")])
def read_password() -> str:
    return flytekit.current_context().secrets.get("pg", "password")


if __name__ == "__main__":
    print("password=" + read_password())
'''

INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/").rstrip("/") + "/flytekit/"


def _index_reachable():
    try:
        with urllib.request.urlopen(INDEX, timeout=20) as response:
            return response.status == 200, ""
    except OSError as error:
        return False, str(error)


@pytest.fixture(scope="session")
def flyte_python():
    venv = os.environ.get("COFFER_FLYTE_VENV") or os.path.join(
        os.path.dirname(__file__), "..", "..", ".build", "flyte-venv")
    python = os.path.join(venv, "bin", "python")
    check = [python, "-c", "import flytekit"]
    if os.path.exists(python) and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    reachable, reason = _index_reachable()
    if not reachable:
        pytest.skip(f"flytekit test skipped: the package index ({INDEX}) cannot be reached: {reason}")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    installed = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "flytekit"], capture_output=True, text=True)
    assert installed.returncode == 0, f"pip install flytekit failed: {installed.stderr[-2000:]}"
    return python


@pytest.mark.parametrize("layout", ["--flyte", "--flyte-files"])
def test_flytekit_task_reads_the_secret(flyte_python, vault_path, cli, home, layout):
    task = home / "task.py"
    task.write_text(TASK)
    environment = dict(os.environ, FLYTE_SECRETS_DEFAULT_DIR=str(home / "nothing-here"))
    result = cli.run("run", "--vault", vault_path, "--passphrase-file", cli.passphrase_file, "--no-mask", layout,
                     "--only", "pg.password", "--", flyte_python, str(task), env=environment, check=False)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert "password=s3cr3t-pg" in result.stdout.decode().splitlines()


def test_flytekit_task_reads_the_secret_file_alone(flyte_python, vault_path, cli, home):
    """With the variable's prefix moved away, flytekit finds the secret only in the file."""
    task = home / "task.py"
    task.write_text(TASK.replace('print("password=" + read_password())',
                                 'import os\n    assert "ELSEWHERE_PG_PASSWORD" not in os.environ\n    print("password=" + read_password())'))
    environment = dict(os.environ, FLYTE_SECRETS_ENV_PREFIX="ELSEWHERE_")
    result = cli.run("run", "--vault", vault_path, "--passphrase-file", cli.passphrase_file, "--no-mask", "--flyte-files",
                     "--only", "pg.password", "--", "/usr/bin/env", "-u", "ELSEWHERE_PG_PASSWORD",
                     flyte_python, str(task), env=environment, check=False)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert "password=s3cr3t-pg" in result.stdout.decode().splitlines()
