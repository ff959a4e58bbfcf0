"""The CLI's trust rules through libcoffer: pins, forged and rolled back vaults, no silent first
use, and vaults created from Python. Each attack is built as an attacker would: with the coffer
command and the real file's public parts, on a machine (state folder) of the attacker's."""
import os
import subprocess

import pytest

import coffer
from conftest import PASSPHRASE
from test_c_abi import build_program


@pytest.fixture
def ci_setup(vault_path, cli, home):
    """Alice's vault with a CI key (an identity file carrying the vault's pin), and her pin."""
    identity = home / "ci.key"
    cli.run("slots", "add-recipient", "--identity-out", str(identity), "--label", "ci",
            "--vault", vault_path, "--passphrase-file", cli.passphrase_file)
    pin = cli.run("pin", "--vault", vault_path).stdout.decode().strip()
    recipient = subprocess.run(["age-keygen", "-y", str(identity)], capture_output=True, check=True, text=True).stdout.strip()
    return identity, pin, recipient


def fresh_machine(home, monkeypatch, name):
    """A state folder that has never seen any vault (a new CI runner)."""
    state = home / name
    state.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_STATE_HOME", str(state))


def forge(cli, home, monkeypatch, target, recipient):
    """The attack: a new vault (new id, the attacker's master key and passphrase) with the
    attacker's value, sealed also to the CI's public key (the real file's public part), put
    where the real vault was."""
    fresh_machine(home, monkeypatch, "attacker-state")
    forged = cli.init(home / "forged.coffer")
    cli.set(forged, "pg.password", "attacker-value")
    cli.run("slots", "add-recipient", recipient, "--vault", forged, "--passphrase-file", cli.passphrase_file)
    os.replace(forged, target)


def test_forged_vault_opened_with_the_pin_is_refused(ci_setup, vault_path, cli, home, monkeypatch):
    identity, pin, recipient = ci_setup
    forge(cli, home, monkeypatch, vault_path, recipient)
    fresh_machine(home, monkeypatch, "ci-state")
    # The pin as an argument, and in $COFFER_VAULT_PIN: refused at open, before any key.
    with pytest.raises(coffer.TamperedError) as raised:
        coffer.Vault(vault_path, pin=pin)
    assert "not the pinned vault" in str(raised.value) and raised.value.status == 4
    monkeypatch.setenv("COFFER_VAULT_PIN", pin)
    with pytest.raises(coffer.TamperedError):
        coffer.Vault(vault_path)
    monkeypatch.delenv("COFFER_VAULT_PIN")
    # The pin in the identity file (given to unlock, and as $COFFER_IDENTITY_FILE).
    with coffer.Vault(vault_path) as vault:
        with pytest.raises(coffer.TamperedError):
            vault.unlock(identity_file=str(identity))
        with pytest.raises(coffer.TamperedError):
            vault.unlock(identity=identity.read_text())
    monkeypatch.setenv("COFFER_IDENTITY_FILE", str(identity))
    with pytest.raises(coffer.TamperedError):
        coffer.Vault(vault_path)
    monkeypatch.delenv("COFFER_IDENTITY_FILE")
    monkeypatch.setenv("COFFER_IDENTITY", identity.read_text())
    with pytest.raises(coffer.TamperedError):
        coffer.Vault(vault_path)


def test_forged_vault_without_a_pin_is_never_written(ci_setup, vault_path, cli, home, monkeypatch):
    """No silent first use: the CI key opens the forged vault, but a write is refused."""
    identity, _, recipient = ci_setup
    forge(cli, home, monkeypatch, vault_path, recipient)
    fresh_machine(home, monkeypatch, "ci-state")
    bare_key = home / "bare.key"  # the key without its pin line
    bare_key.write_text("".join(line for line in identity.read_text().splitlines(True) if not line.startswith("#")))
    before = open(vault_path, "rb").read()
    with coffer.Vault(vault_path) as vault:
        vault.unlock(identity_file=str(bare_key))
        assert "never confirmed on this machine" in vault.warnings
        with pytest.raises(coffer.TamperedError) as raised:
            vault.set("ci.token", "t")
        assert "refused to write" in str(raised.value)
        with pytest.raises(coffer.TamperedError):
            vault.delete("pg.password")
    # A second handle after a read: reading did not vouch for it.
    with coffer.Vault(vault_path) as vault:
        vault.unlock(identity_file=str(bare_key))
        with pytest.raises(coffer.TamperedError):
            vault.set("ci.token", "t")
    assert open(vault_path, "rb").read() == before


def test_real_vault_with_the_pin_is_written_by_its_ci_key(ci_setup, vault_path, cli, home, monkeypatch):
    identity, pin, _ = ci_setup
    fresh_machine(home, monkeypatch, "ci-state")
    with coffer.Vault(vault_path, pin=pin) as vault:
        vault.unlock(identity_file=str(identity))
        vault.set("ci.token", "from-ci")
    with coffer.Vault(vault_path) as vault:  # the identity file's own pin line pins it
        vault.unlock(identity_file=str(identity))
        assert vault.get("ci.token") == b"from-ci"
        vault.set("ci.other", "x")
    assert cli.get(vault_path, "ci.token").stdout == b"from-ci"


def test_rolled_back_copy_is_refused_after_a_newer_one_was_seen(vault_path, cli):
    """The attack through the C ABI: a machine that saw generation n is given an older copy."""
    older = open(vault_path, "rb").read()
    with coffer.Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        vault.set("newer", "n")
    open(vault_path, "wb").write(older)
    with coffer.Vault(vault_path) as vault:
        assert "rollback" in vault.warnings
        vault.unlock(PASSPHRASE)
        vault.set("x", "y")
        with pytest.raises(coffer.TamperedError):
            vault.save()
        vault.close()  # the unsaved change dropped
    assert open(vault_path, "rb").read() == older


def git(repo, *arguments):
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@example.invalid",
                    "-c", "commit.gpgsign=false", *arguments], check=True, capture_output=True)


def test_replayed_commit_in_the_git_history_refuses_writes(cli, home, monkeypatch):
    """The attack: an old copy committed over a newer one; a machine that never saw the vault
    (a fresh clone) has nothing to compare with but the history, which libcoffer checks as the CLI does."""
    repo = home / "work"
    git(repo, "init", "-q", "-b", "main")
    path = cli.init(repo / "secrets.coffer")
    cli.set(path, "api.token", "token-old")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "old")
    cli.set(path, "api.token", "token-new", "--overwrite")
    git(repo, "commit", "-q", "-am", "new")
    git(repo, "checkout", "HEAD~1", "--", "secrets.coffer")
    git(repo, "commit", "-q", "-am", "innocent-looking")
    before = open(path, "rb").read()
    fresh_machine(home, monkeypatch, "clone-state")
    with coffer.Vault(path) as vault:
        assert "history check: " in vault.warnings and "is older than its parent" in vault.warnings
        vault.unlock(PASSPHRASE)
        assert vault.get("api.token") == b"token-old"  # reads go on, with the warning
        vault.set("after.replay", "x")
        with pytest.raises(coffer.TamperedError) as raised:
            vault.save()
        assert "history check: " in str(raised.value)
        vault.close()
    assert open(path, "rb").read() == before


def test_create_with_a_passphrase_read_by_the_cli(cli, home):
    path = home / "work" / "made.coffer"
    with coffer.Vault.create(path, passphrase=PASSPHRASE, kdf_ops=1, kdf_memory_mib=8) as vault:
        vault.set("pg.password", "from-python")
    assert cli.get(str(path), "pg.password").stdout == b"from-python"
    with pytest.raises(coffer.ConflictError):  # never over an existing file
        coffer.Vault.create(path, passphrase=PASSPHRASE, kdf_ops=1, kdf_memory_mib=8)
    assert cli.get(str(path), "pg.password").stdout == b"from-python"


def test_create_local_and_by_the_search_order(cli, home, monkeypatch):
    with coffer.Vault.create(local=True, passphrase=PASSPHRASE, kdf_ops=1, kdf_memory_mib=8) as vault:
        vault.set("a", "1")
        assert vault.path == os.path.join(os.environ["XDG_DATA_HOME"], "coffer", "local.coffer")
    with coffer.Vault.create(passphrase=PASSPHRASE, kdf_ops=1, kdf_memory_mib=8) as vault:
        assert os.path.realpath(vault.path) == str(home / "work" / "secrets.coffer")
    with pytest.raises(coffer.UsageError):
        coffer.Vault.create(home / "bad.coffer", passphrase=PASSPHRASE, kdf_ops=1, kdf_memory_mib=0)
    with pytest.raises(coffer.UsageError):
        coffer.Vault.create(home / "bad.coffer", passphrase="", kdf_ops=1, kdf_memory_mib=8)
    assert not (home / "bad.coffer").exists()


def test_create_for_a_recipient_then_written_with_its_identity(cli, home, monkeypatch):
    identity = home / "owner.key"
    recipient = cli.run("keygen", "-o", str(identity)).stdout.decode().strip()
    path = home / "work" / "recipient.coffer"
    with coffer.Vault.create(path, recipient=recipient) as vault:
        vault.set("made", "by-python")
    # Created here, so vouched for: the identity writes without a pin.
    with coffer.Vault(path) as vault:
        vault.unlock(identity_file=str(identity))
        vault.set("more", "x")
    assert cli.run("get", "made", "--vault", str(path), "-i", str(identity)).stdout == b"by-python"
    with pytest.raises(coffer.UsageError):
        coffer.Vault.create(home / "bad.coffer", recipient="age1notarecipient")


PROGRAM = r'''
#include <coffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* argv: forged vault, pin, rollback vault, new vault path */
int main(int argc, char **argv) {
    coffer_vault *vault = NULL;
    int status = coffer_open_pinned(argv[1], 0, argv[2], &vault);
    printf("forged %d\n", status);
    coffer_close(vault);

    FILE *file = fopen(argv[3], "rb");
    static char older[1 << 20];
    size_t size = fread(older, 1, sizeof older, file);
    fclose(file);
    coffer_open(argv[3], 0, &vault);
    coffer_unlock_passphrase(vault, (const uint8_t *)"correct horse battery staple", 28);
    coffer_set(vault, "newer", NULL, NULL, (const uint8_t *)"n", 1, NULL, 0);
    printf("newer %d\n", coffer_save(vault));
    coffer_close(vault);
    file = fopen(argv[3], "wb");
    fwrite(older, 1, size, file);
    fclose(file);
    coffer_open(argv[3], 0, &vault);
    printf("warned %d\n", strstr(coffer_message(vault), "rollback") != NULL);
    coffer_unlock_passphrase(vault, (const uint8_t *)"correct horse battery staple", 28);
    coffer_set(vault, "x", NULL, NULL, (const uint8_t *)"y", 1, NULL, 0);
    printf("rolled back %d\n", coffer_save(vault));
    coffer_close(vault);

    status = coffer_create_passphrase(argv[4], 0, (const uint8_t *)"pw", 2, 1, 8, &vault);
    printf("created %d\n", status);
    status = coffer_set(vault, "c.made", NULL, NULL, (const uint8_t *)"v", 1, NULL, 0);
    printf("saved %d %d\n", status, coffer_save(vault));
    coffer_close(vault);
    status = coffer_create_passphrase(argv[4], 0, (const uint8_t *)"pw", 2, 1, 8, &vault);
    printf("again %d\n", status);
    coffer_close(vault);
    return 0;
}
'''


def test_c_program_forged_rolled_back_and_created(ci_setup, vault_path, cli, home, monkeypatch):
    _, pin, recipient = ci_setup
    rollback_vault = cli.init(home / "work" / "rollback.coffer")
    forged = home / "work" / "forged.coffer"
    forge(cli, home, monkeypatch, forged, recipient)
    fresh_machine(home, monkeypatch, "c-state")
    binary = build_program(home, "trust", PROGRAM)
    made = home / "work" / "from-c.coffer"
    result = subprocess.run([binary, str(forged), pin, rollback_vault, str(made)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "forged 4", "newer 0", "warned 1", "rolled back 4", "created 0", "saved 0 0", "again 5"]
