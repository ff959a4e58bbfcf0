"""coffer.Vault through the real libcoffer.so: every verb, the error mapping, and vaults shared
with the CLI both ways."""
import json
import os

import pytest

import coffer
from conftest import PASSPHRASE


def test_open_discovers_the_nearest_vault_as_the_cli_does(vault_path, home):
    nested = home / "work" / "sub"
    nested.mkdir()
    os.chdir(nested)
    (home / "work" / ".git").mkdir()
    with coffer.Vault() as vault:
        assert vault.path == vault_path


def test_open_prefers_coffer_vault_and_local_flag(cli, home, monkeypatch):
    local = cli.init_local()
    with coffer.Vault(local=True) as vault:
        assert vault.path == local
    other = cli.init(home / "other.coffer")
    monkeypatch.setenv("COFFER_VAULT", other)
    with coffer.Vault() as vault:
        assert vault.path == other


def test_cli_made_vault_read_from_python(vault_path):
    with coffer.Vault(vault_path) as vault:
        assert sorted(vault.names()) == ["api.key", "pg.password"]
        vault.unlock(PASSPHRASE)
        assert vault.get("pg.password") == b"s3cr3t-pg"
        assert vault.get_str("api.key", project="shop") == "shop-key"


def test_python_writes_read_by_the_cli(vault_path, cli):
    with coffer.Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE.encode())
        vault.set("bin.blob", bytes(range(256)), description="all bytes")
        vault.set("pg.password", "changed", overwrite=True)
        vault.delete("api.key", project="shop")
        assert vault.has_unsaved_changes
    assert cli.get(vault_path, "bin.blob").stdout == bytes(range(256))
    assert cli.get(vault_path, "pg.password").stdout == b"changed"
    assert cli.get(vault_path, "api.key", "--project", "shop", check=False).returncode == 2
    listed = cli.run("list", "--vault", vault_path, "--json").stdout.decode()
    assert '"description":"all bytes"' in listed


def test_list_gives_metadata_like_the_cli_and_no_values(vault_path, cli):
    with coffer.Vault(vault_path) as vault:
        entries = vault.list()
        scoped = vault.list(project="shop")
    assert entries == json.loads(cli.run("list", "--vault", vault_path, "--json").stdout)
    assert {entry["name"]: (entry["project"], entry["description"]) for entry in scoped} == {
        "api.key": ("shop", "shop API"), "pg.password": ("", "")}
    assert all("value" not in entry for entry in entries)
    assert entries[0].keys() >= {"name", "project", "domain", "scope", "created", "updated", "description", "noReveal"}


def test_set_refuses_existing_without_overwrite_and_keeps_the_value(vault_path):
    with coffer.Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        with pytest.raises(coffer.ConflictError) as raised:
            vault.set("pg.password", "other")
        assert raised.value.status == 5
        assert vault.get("pg.password") == b"s3cr3t-pg"


def test_context_manager_saves_on_success_and_drops_on_error(vault_path, cli):
    with pytest.raises(RuntimeError):
        with coffer.Vault(vault_path) as vault:
            vault.unlock(PASSPHRASE)
            vault.set("dropped", "x")
            raise RuntimeError("stop")
    assert cli.get(vault_path, "dropped", check=False).returncode == 2
    with coffer.Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        vault.set("kept", "y")
    assert cli.get(vault_path, "kept").stdout == b"y"


def test_no_reveal_entries_are_refused_by_get(vault_path):
    with coffer.Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        vault.set("hidden", "v", no_reveal=True)
        vault.save()
        with pytest.raises(coffer.ConflictError):
            vault.get("hidden")


def test_unlock_with_identity_file_and_text(vault_path, cli, home):
    identity = home / "ci.key"
    recipient = cli.run("keygen", "-o", str(identity)).stdout.decode().strip()
    cli.run("slots", "add-recipient", recipient, "--vault", vault_path, "--passphrase-file", cli.passphrase_file)
    with coffer.Vault(vault_path) as vault:
        vault.unlock(identity_file=str(identity))
        assert vault.get("pg.password") == b"s3cr3t-pg"
    with coffer.Vault(vault_path) as vault:
        vault.unlock(identity=identity.read_text())
        assert vault.get("pg.password") == b"s3cr3t-pg"


def test_unlock_with_a_passphrase_protected_identity_file(vault_path, cli, home):
    identity = home / "protected.key"
    recipient = cli.run("keygen", "-o", str(identity), "--passphrase", "--new-passphrase-file", cli.passphrase_file,
                        "--kdf-ops", "1", "--kdf-memory", "8").stdout.decode().strip()
    cli.run("slots", "add-recipient", recipient, "--vault", vault_path, "--passphrase-file", cli.passphrase_file)
    with coffer.Vault(vault_path) as vault:
        with pytest.raises(coffer.AuthenticationError):
            vault.unlock(identity_file=str(identity))
        with pytest.raises(coffer.AuthenticationError):
            vault.unlock(identity_file=str(identity), identity_passphrase="not it")
        vault.unlock(identity_file=str(identity), identity_passphrase=PASSPHRASE)
        assert vault.get("pg.password") == b"s3cr3t-pg"


def test_unlock_with_a_cli_session(vault_path, cli, monkeypatch):
    token = cli.run("unlock", "--raw", "--vault", vault_path, "--passphrase-file", cli.passphrase_file).stdout.decode().strip()
    with coffer.Vault(vault_path) as vault:
        vault.unlock(session=token)
        assert vault.get("pg.password") == b"s3cr3t-pg"
    monkeypatch.setenv("COFFER_SESSION", token)
    with coffer.Vault(vault_path) as vault:
        vault.unlock()
        assert vault.get("pg.password") == b"s3cr3t-pg"
    with coffer.Vault(vault_path) as vault:
        with pytest.raises(coffer.AuthenticationError):
            vault.unlock(session="00" * 32)


def test_unlock_default_reads_the_passphrase_file_variable(vault_path, cli, monkeypatch):
    with coffer.Vault(vault_path) as vault:
        with pytest.raises(coffer.AuthenticationError):
            vault.unlock()
    monkeypatch.setenv("COFFER_PASSPHRASE_FILE", cli.passphrase_file)
    with coffer.Vault(vault_path) as vault:
        vault.unlock()
        assert vault.get("pg.password") == b"s3cr3t-pg"


def test_error_mapping_one_class_per_exit_code(vault_path, home):
    with pytest.raises(coffer.NotFoundError) as missing_file:
        coffer.Vault(str(home / "nope.coffer"))
    assert missing_file.value.status == 2
    with coffer.Vault(vault_path) as vault:
        with pytest.raises(coffer.AuthenticationError):
            vault.get("pg.password")  # locked
        with pytest.raises(coffer.AuthenticationError) as wrong:
            vault.unlock("wrong passphrase")
        assert wrong.value.status == 3
        vault.unlock(PASSPHRASE)
        with pytest.raises(coffer.NotFoundError):
            vault.get("no.such")
        with pytest.raises(coffer.UsageError) as bad_name:
            vault.set("-bad name", "v")
        assert bad_name.value.status == 1
        with pytest.raises(coffer.ConflictError):
            vault.set("pg.password", "v")
    (home / "junk.coffer").write_bytes(b"not a vault at all")
    with pytest.raises(coffer.TamperedError):
        coffer.Vault(str(home / "junk.coffer"))
    for cls in (coffer.UsageError, coffer.NotFoundError, coffer.AuthenticationError, coffer.TamperedError,
                coffer.ConflictError, coffer.CofferIOError):
        assert issubclass(cls, coffer.CofferError)


def test_tampered_vault_is_refused(vault_path):
    data = bytearray(open(vault_path, "rb").read())
    data[-10] ^= 1
    open(vault_path, "wb").write(bytes(data))
    with pytest.raises(coffer.TamperedError) as raised:
        coffer.Vault(vault_path)
    assert raised.value.status == 4


def test_rolled_back_vault_warns_on_open_and_refuses_a_save(vault_path, cli):
    """The attack: an older copy of the vault restored over the file (a rollback)."""
    older = open(vault_path, "rb").read()
    cli.set(vault_path, "newer", "n")
    open(vault_path, "wb").write(older)
    with coffer.Vault(vault_path) as vault:
        assert "rollback" in vault.warnings
        vault.unlock(PASSPHRASE)
        assert vault.get("pg.password") == b"s3cr3t-pg"
        vault.set("after.rollback", "x")
        with pytest.raises(coffer.TamperedError) as raised:
            vault.save()
        assert "rollback" in str(raised.value) and raised.value.status == 4
        vault.close()
    assert open(vault_path, "rb").read() == older


def test_io_error_for_an_unreadable_folder(vault_path, home):
    if os.geteuid() == 0:
        locked = home / "locked"
        locked.mkdir()
        # root reads anything: an I/O error from a folder given as the vault instead.
        with pytest.raises(coffer.CofferIOError) as raised:
            coffer.Vault(str(locked))
    else:
        os.chmod(vault_path, 0)
        with pytest.raises(coffer.CofferIOError) as raised:
            coffer.Vault(vault_path)
    assert raised.value.status == 6


def test_save_conflicts_when_the_cli_wrote_meanwhile(vault_path, cli):
    with coffer.Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        vault.set("from.python", "1")
        cli.set(vault_path, "from.cli", "2")
        with pytest.raises(coffer.ConflictError):
            vault.save()
        vault.close()
    assert cli.get(vault_path, "from.cli").stdout == b"2"


def test_no_value_in_exception_text(vault_path):
    secret = "s3cr3t-pg"
    with coffer.Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        messages = []
        for call in (lambda: vault.set("pg.password", secret),
                     lambda: vault.set("bad name", secret),
                     lambda: vault.set("pg.password", secret + "\x00", description="bad\x01description", overwrite=True)):
            with pytest.raises(coffer.CofferError) as raised:
                call()
            messages.append(str(raised.value) + repr(raised.value))
    with coffer.Vault(vault_path) as vault:
        with pytest.raises(coffer.AuthenticationError) as wrong:
            vault.unlock(secret)
        messages.append(str(wrong.value) + repr(wrong.value))
    assert messages and all(secret not in message and PASSPHRASE not in message for message in messages)


def test_closed_vault_says_so(vault_path):
    vault = coffer.Vault(vault_path)
    vault.close()
    with pytest.raises(coffer.CofferError):
        vault.list()
