"""Coffer's encrypted secret vaults from Python, through libcoffer.so (the C ABI of coffer.h).

    import coffer
    with coffer.Vault() as vault:          # the vault the CLI would use here
        vault.unlock()                     # session, identity or passphrase file from the environment
        password = vault.get_str("pg.password")

Layers named after the systems they imitate: ``coffer.hpcflow`` and ``coffer.digitalhub``."""
from .errors import (
    AuthenticationError,
    CofferError,
    CofferIOError,
    ConflictError,
    NotFoundError,
    TamperedError,
    UsageError,
)
from .vault import Vault

__all__ = [
    "Vault",
    "CofferError",
    "UsageError",
    "NotFoundError",
    "AuthenticationError",
    "TamperedError",
    "ConflictError",
    "CofferIOError",
]
