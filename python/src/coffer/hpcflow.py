"""hpcflow's secrets API over a Coffer vault.

hpcflow documents ``set_secret(key, value, overwrite=False)``, ``get_secret(key)``,
``print_secrets(include_values=False)`` and ``delete_secret(key)`` on a per-user secrets file.
Here the same calls work on the user's local vault ($XDG_DATA_HOME/coffer/local.coffer, made
with ``coffer init --local``), or on ``vault=PATH``. Keys are global entries; values are str.
The key comes from the environment (a session, $COFFER_IDENTITY_FILE, ...), as ``Vault.unlock()``.
"""
from .errors import NotFoundError
from .vault import Vault


def _open(vault):
    return Vault(vault) if vault is not None else Vault(local=True)


def set_secret(key, value, overwrite=False, *, vault=None):
    """Stores ``value`` as ``key``; an existing key is a ConflictError unless ``overwrite``."""
    with _open(vault) as opened:
        opened.unlock()
        opened.set(key, value, overwrite=overwrite)
        opened.save()


def get_secret(key, *, vault=None):
    """The value of ``key`` (str); NotFoundError when there is none."""
    with _open(vault) as opened:
        _require(opened, key)
        opened.unlock()
        return opened.get_str(key)


def print_secrets(include_values=False, *, vault=None):
    """Prints every key, one per line; with ``include_values``, ``KEY: VALUE`` (a no-reveal
    secret shows ``[no-reveal]``)."""
    with _open(vault) as opened:
        entries = [entry for entry in opened.list() if not entry["project"] and not entry["domain"]]
        if include_values and any(not entry["noReveal"] for entry in entries):
            opened.unlock()
        for entry in entries:
            if not include_values:
                print(entry["name"])
            elif entry["noReveal"]:
                print(f"{entry['name']}: [no-reveal]")
            else:
                print(f"{entry['name']}: {opened.get_str(entry['name'])}")


def delete_secret(key, *, vault=None):
    """Removes ``key``; NotFoundError when there is none."""
    with _open(vault) as opened:
        _require(opened, key)
        opened.unlock()
        opened.delete(key)
        opened.save()


def _require(opened, key):
    """Checked before any key is asked for, as the CLI does."""
    if not any(entry["name"] == key for entry in opened.list() if not entry["project"] and not entry["domain"]):
        raise NotFoundError(f"no secret {key} (global)")
