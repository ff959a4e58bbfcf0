"""Fixtures: a private environment per test, and vaults made by the real coffer CLI.

COFFER_CLI names the coffer binary and COFFER_LIBRARY the libcoffer.so under test (`make test`
sets both)."""
import os
import subprocess

import pytest

PASSPHRASE = "correct horse battery staple"


def cli_path():
    path = os.environ.get("COFFER_CLI")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("COFFER_CLI must name the coffer binary (make test sets it)")
    return path


class CLI:
    def __init__(self, root):
        self.root = root
        self.passphrase_file = str(root / "passphrase")
        with open(self.passphrase_file, "w") as handle:
            handle.write(PASSPHRASE + "\n")

    def run(self, *arguments, input=None, check=True, env=None):
        result = subprocess.run(
            [cli_path(), *arguments], input=input, capture_output=True, env=env, cwd=self.root)
        if check and result.returncode != 0:
            raise AssertionError(f"coffer {' '.join(arguments)} exited {result.returncode}: {result.stderr.decode()}")
        return result

    def init(self, vault, *extra):
        self.run("init", "--vault", str(vault), "--kdf-ops", "1", "--kdf-memory", "8",
                 "--passphrase-file", self.passphrase_file, *extra)
        return str(vault)

    def init_local(self):
        self.run("init", "--local", "--kdf-ops", "1", "--kdf-memory", "8", "--passphrase-file", self.passphrase_file)
        return os.path.join(os.environ["XDG_DATA_HOME"], "coffer", "local.coffer")

    def set(self, vault, name, value, *extra):
        return self.run("set", name, "--vault", str(vault), "--passphrase-file", self.passphrase_file, *extra,
                        input=value if isinstance(value, bytes) else value.encode())

    def get(self, vault, name, *extra, check=True):
        return self.run("get", name, "--vault", str(vault), "--passphrase-file", self.passphrase_file, *extra, check=check)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A scratch HOME and XDG folders; no Coffer variable from the caller's environment."""
    for name in list(os.environ):
        if name.startswith("COFFER_") and name not in ("COFFER_CLI", "COFFER_LIBRARY"):
            monkeypatch.delenv(name)
    for name, folder in (("HOME", "home"), ("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state"),
                         ("XDG_RUNTIME_DIR", "run"), ("XDG_CONFIG_HOME", "config")):
        path = tmp_path / folder
        path.mkdir(mode=0o700)
        monkeypatch.setenv(name, str(path))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


@pytest.fixture
def cli(home):
    return CLI(home)


@pytest.fixture
def vault_path(cli, home):
    """A vault made by the CLI, with pg.password and a project entry."""
    path = cli.init(home / "work" / "secrets.coffer")
    cli.set(path, "pg.password", "s3cr3t-pg")
    cli.set(path, "api.key", "shop-key", "--project", "shop", "--description", "shop API")
    return path
