"""One exception class per exit code of the README's table, all under CofferError.

Messages come from libcoffer and never hold a secret value or passphrase."""


class CofferError(Exception):
    """A Coffer call failed; ``status`` is the CLI's exit code for the same failure."""

    status = None

    def __init__(self, message, status=None):
        super().__init__(message)
        if status is not None:
            self.status = status


class UsageError(CofferError, ValueError):
    """Bad input: a name, scope or argument (exit code 1)."""

    status = 1


class NotFoundError(CofferError, KeyError):
    """No such secret, or no such vault file (exit code 2)."""

    status = 2

    def __str__(self):
        return self.args[0] if self.args else ""


class AuthenticationError(CofferError):
    """Wrong passphrase or identity, no key, or a key that does not cover the scope (exit code 3)."""

    status = 3


class TamperedError(CofferError):
    """A corrupted, tampered, rolled back, forked or forged vault (exit code 4)."""

    status = 4


class ConflictError(CofferError):
    """Exists already (no overwrite), no-reveal, or the vault changed on disk meanwhile (exit code 5)."""

    status = 5


class CofferIOError(CofferError, OSError):
    """I/O or permissions (exit code 6)."""

    status = 6


BY_STATUS = {cls.status: cls for cls in (UsageError, NotFoundError, AuthenticationError, TamperedError, ConflictError, CofferIOError)}


def error_for(status, message):
    """The exception for a status code from libcoffer."""
    cls = BY_STATUS.get(status, CofferError)
    return cls(message, status) if cls is CofferError else cls(message)
