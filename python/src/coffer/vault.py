"""coffer.Vault: a vault file through libcoffer.so."""
import ctypes
import json
import os

from . import _native
from .errors import CofferError, error_for

_lib = _native.lib


def _encode(text, what):
    if text is None:
        return None
    if isinstance(text, bytes):
        return text
    if isinstance(text, (str, os.PathLike)):
        return os.fsencode(text)
    raise TypeError(f"{what} must be str or bytes")


def _secret_bytes(value, what):
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be bytes or str")


class Vault:
    """A Coffer vault file.

    ``Vault()`` finds the vault as the ``coffer`` command does ($COFFER_VAULT, the nearest
    ``secrets.coffer`` up to the repository root, else the local vault); ``Vault(path)`` opens that
    file, ``Vault(local=True)`` the local vault. ``pin`` (a line from ``coffer pin``, or several
    separated by spaces) refuses any other vault with TamperedError, as ``--pin`` does;
    $COFFER_VAULT_PIN and ``# coffer-pin:`` lines of identity files apply too. ``Vault.create``
    makes a new vault. Names and metadata need no key; values need ``unlock()``. ``set`` and
    ``delete`` change this copy until ``save()``; leaving a ``with`` block without an exception
    saves pending changes, and closes the vault either way.

    The trust rules are the CLI's: a forged or substituted vault is refused, a rolled back or
    forked one is read with ``warnings`` and never saved, and a vault unlocked by identity or
    session that no one here vouched for (pinned, unlocked by passphrase, created or trusted
    here) is never written: there is no terminal to confirm on.

    Values are ``bytes`` (``get``) or ``str`` (``get_str``); ``set`` takes either. The library
    zeroes its own copies; Python's ``bytes`` cannot be zeroed, so keep values short-lived.
    """

    def __init__(self, path=None, *, local=False, pin=None):
        self._handle = None
        self._start(lambda out: _lib.coffer_open_pinned(
            _encode(path, "path"), _native.OPEN_LOCAL if local else 0, _encode(pin, "pin"), out))

    def _start(self, call):
        handle = ctypes.c_void_p()
        status = call(ctypes.byref(handle))
        self._handle = handle
        if status != 0:
            message = self._message()
            self.close()
            raise error_for(status, message)
        #: Trust warnings from opening (a rollback or fork seen on this machine) and unlocking, or "".
        self.warnings = self._message()

    @classmethod
    def create(cls, path=None, *, passphrase=None, recipient=None, local=False, kdf_ops=0, kdf_memory_mib=0):
        """Creates a vault, as ``coffer init`` does, and returns it unlocked: with one passphrase
        slot (``passphrase``, bytes or str; Argon2id ``kdf_ops`` passes and ``kdf_memory_mib``
        MiB, both 0 for the default) or one slot for an age recipient (``recipient``, age1...).
        ``path`` None: $COFFER_VAULT, else secrets.coffer here; ``local=True``: the local vault.
        An existing file is never replaced."""
        if (passphrase is None) == (recipient is None):
            raise CofferError("give a passphrase or a recipient", 1)
        vault = cls.__new__(cls)
        vault._handle = None
        flags = _native.OPEN_LOCAL if local else 0
        if passphrase is not None:
            secret = _secret_bytes(passphrase, "passphrase")
            vault._start(lambda out: _lib.coffer_create_passphrase(
                _encode(path, "path"), flags, secret, len(secret), kdf_ops, kdf_memory_mib, out))
        else:
            vault._start(lambda out: _lib.coffer_create_recipient(
                _encode(path, "path"), flags, _encode(recipient, "recipient"), out))
        return vault

    # Handles

    def _message(self):
        raw = _lib.coffer_message(self._handle)
        return raw.decode("utf-8", "replace") if raw else ""

    def _check(self, status):
        if status != 0:
            raise error_for(status, self._message())

    def _live(self):
        if not self._handle:
            raise CofferError("the vault is closed", 1)
        return self._handle

    @property
    def path(self):
        return os.fsdecode(_lib.coffer_path(self._live()))

    def close(self):
        """Ends the handle; the library's keys and copies are zeroed. Unsaved changes are dropped."""
        if self._handle:
            _lib.coffer_close(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        try:
            if kind is None and self._handle and self.has_unsaved_changes:
                self.save()
        finally:
            self.close()

    def __del__(self):
        if getattr(self, "_handle", None):
            self.close()

    def __repr__(self):
        return f"coffer.Vault({self.path!r})" if self._handle else "coffer.Vault(closed)"

    # Unlocking

    def unlock(self, passphrase=None, *, identity_file=None, identity=None, session=None, identity_passphrase=None):
        """Unlocks with one key source; with none, as the CLI without a terminal does: a valid
        session ($COFFER_SESSION), else $COFFER_IDENTITY_FILE, $COFFER_IDENTITY, $COFFER_PASSPHRASE_FILE.

        ``passphrase`` (bytes or str); ``identity_file`` (an age identity file, and
        ``identity_passphrase`` for a protected one); ``identity`` (identity text,
        AGE-SECRET-KEY-1... lines); ``session`` (a token from ``coffer unlock``, or True for $COFFER_SESSION).
        Returns the vault, for chaining."""
        handle = self._live()
        given = [source for source in (passphrase, identity_file, identity, session) if source is not None]
        if len(given) > 1:
            raise CofferError("give one key source to unlock", 1)
        if passphrase is not None:
            secret = _secret_bytes(passphrase, "passphrase")
            status = _lib.coffer_unlock_passphrase(handle, secret, len(secret))
        elif identity_file is not None:
            protection = None if identity_passphrase is None else _secret_bytes(identity_passphrase, "identity_passphrase")
            status = _lib.coffer_unlock_identity_file(
                handle, _encode(identity_file, "identity_file"), protection, len(protection or b""))
        elif identity is not None:
            text = _secret_bytes(identity, "identity")
            status = _lib.coffer_unlock_identity(handle, text, len(text))
        elif session is not None:
            status = _lib.coffer_unlock_session(handle, None if session is True else _encode(session, "session"))
        else:
            status = _lib.coffer_unlock_default(handle)
        self._check(status)
        note = self._message()  # a vault never vouched for on this machine, read the first time
        if note:
            self.warnings = "; ".join(part for part in (self.warnings, note) if part)
        return self

    # Entries

    def _take(self, call):
        buffer = ctypes.c_void_p()
        length = ctypes.c_size_t()
        self._check(call(ctypes.byref(buffer), ctypes.byref(length)))
        try:
            return ctypes.string_at(buffer, length.value)
        finally:
            _lib.coffer_free(buffer)

    def get(self, name, *, project=None, domain=None):
        """The value as bytes; with project/domain the most specific entry wins, as in ``coffer get``."""
        return self._take(lambda out, length: _lib.coffer_get(
            self._live(), _encode(name, "name"), _encode(project, "project"), _encode(domain, "domain"), out, length))

    def get_str(self, name, *, project=None, domain=None):
        """The value decoded as UTF-8."""
        return self.get(name, project=project, domain=domain).decode("utf-8")

    def set(self, name, value, *, project=None, domain=None, overwrite=False, description=None, no_reveal=False):
        """Stores ``value`` (bytes or str) as ``name`` in that exact scope; an existing entry is a
        ConflictError unless ``overwrite``. ``description`` None keeps an existing entry's."""
        secret = _secret_bytes(value, "value")
        flags = (_native.OVERWRITE if overwrite else 0) | (_native.NO_REVEAL if no_reveal else 0)
        self._check(_lib.coffer_set(
            self._live(), _encode(name, "name"), _encode(project, "project"), _encode(domain, "domain"),
            secret, len(secret), None if description is None else description.encode("utf-8"), flags))

    def delete(self, name, *, project=None, domain=None):
        """Removes ``name`` from that exact scope."""
        self._check(_lib.coffer_delete(
            self._live(), _encode(name, "name"), _encode(project, "project"), _encode(domain, "domain")))

    def list(self, *, project=None, domain=None):
        """Entries' metadata (no values) as dicts with the keys of ``coffer list --json``; with
        project/domain, the resolved view of that scope."""
        text = self._take(lambda out, length: _lib.coffer_list(
            self._live(), _encode(project, "project"), _encode(domain, "domain"), out, length))
        return json.loads(text.decode("utf-8"))

    def names(self, *, project=None, domain=None):
        return [entry["name"] for entry in self.list(project=project, domain=domain)]

    def __contains__(self, name):
        return name in self.names()

    @property
    def has_unsaved_changes(self):
        return bool(_lib.coffer_has_unsaved_changes(self._live()))

    def save(self):
        """Writes the changes atomically (ConflictError if the file changed on disk since it was opened)."""
        self._check(_lib.coffer_save(self._live()))
