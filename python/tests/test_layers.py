"""The hpcflow and Digital Hub layers, on vaults the CLI made and reads."""
import pytest

import coffer
from coffer import digitalhub, hpcflow


@pytest.fixture
def local_vault(cli, home, monkeypatch):
    path = cli.init_local()
    monkeypatch.setenv("COFFER_PASSPHRASE_FILE", cli.passphrase_file)
    return path


def test_hpcflow_verbs_on_the_local_vault(local_vault, cli, capsys):
    hpcflow.set_secret("MY_SECRET", "value-1")
    assert hpcflow.get_secret("MY_SECRET") == "value-1"
    with pytest.raises(coffer.ConflictError):
        hpcflow.set_secret("MY_SECRET", "value-2")
    hpcflow.set_secret("MY_SECRET", "value-2", overwrite=True)
    assert cli.get(local_vault, "MY_SECRET").stdout == b"value-2"
    hpcflow.set_secret("OTHER", "value-3")

    capsys.readouterr()
    hpcflow.print_secrets()
    printed = capsys.readouterr().out
    assert printed.splitlines() == ["MY_SECRET", "OTHER"]
    assert "value-" not in printed
    hpcflow.print_secrets(include_values=True)
    assert capsys.readouterr().out.splitlines() == ["MY_SECRET: value-2", "OTHER: value-3"]

    hpcflow.delete_secret("MY_SECRET")
    with pytest.raises(coffer.NotFoundError):
        hpcflow.get_secret("MY_SECRET")
    with pytest.raises(coffer.NotFoundError):
        hpcflow.delete_secret("MY_SECRET")
    assert cli.get(local_vault, "MY_SECRET", check=False).returncode == 2


def test_hpcflow_reads_what_the_cli_set_without_a_key_for_names(local_vault, cli, monkeypatch, capsys):
    cli.set(local_vault, "FROM_CLI", "cli-value")
    monkeypatch.delenv("COFFER_PASSPHRASE_FILE")
    hpcflow.print_secrets()
    assert capsys.readouterr().out.splitlines() == ["FROM_CLI"]
    with pytest.raises(coffer.AuthenticationError) as raised:
        hpcflow.get_secret("FROM_CLI")
    assert "cli-value" not in str(raised.value)


def test_digitalhub_project_secrets(vault_path, cli, monkeypatch):
    monkeypatch.setenv("COFFER_PASSPHRASE_FILE", cli.passphrase_file)
    project = digitalhub.get_or_create_project("project-secrets")
    secret = project.new_secret(name="somesecret", secret_value="value1")
    assert "value1" not in repr(secret)
    assert project.get_secret(entity_name="somesecret").read_secret_value() == "value1"
    secret.set_secret_value(value="value2")
    assert secret.read_secret_value() == "value2"
    assert cli.get(vault_path, "somesecret", "--project", "project-secrets").stdout == b"value2"
    with pytest.raises(coffer.ConflictError):
        project.new_secret(name="somesecret", secret_value="again")

    assert [s.name for s in project.list_secrets()] == ["somesecret"]
    # Another project's secrets and global ones are not this project's.
    assert [s.name for s in digitalhub.get_or_create_project("shop").list_secrets()] == ["api.key"]
    with pytest.raises(coffer.NotFoundError):
        project.get_secret(entity_name="pg.password")

    project.delete_secret(entity_name="somesecret")
    assert project.list_secrets() == []
    assert cli.get(vault_path, "somesecret", "--project", "project-secrets", check=False).returncode == 2


def test_digitalhub_reads_a_cli_project_secret(vault_path, cli, monkeypatch):
    monkeypatch.setenv("COFFER_PASSPHRASE_FILE", cli.passphrase_file)
    shop = digitalhub.get_or_create_project("shop", vault=vault_path)
    assert shop.get_secret("api.key").read_secret_value() == "shop-key"
    assert shop.list_secrets()[0].description == "shop API"
