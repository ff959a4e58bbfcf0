/*
 * coffer.h: the C interface of libcoffer.so, Coffer's vaults from C, Python (ctypes) and others.
 *
 * Status codes: every call that can fail returns one of enum coffer_status, the same numbers as
 * the `coffer` command's exit codes. After a failure, coffer_message() says why in one line;
 * the message never holds a secret value or passphrase.
 *
 * Ownership:
 *   - A handle from coffer_open() belongs to the caller, who ends it with coffer_close(), also
 *     when coffer_open() failed (it still sets *out, to a handle carrying the message).
 *   - Strings returned by coffer_message() and coffer_path() belong to the handle: valid until
 *     the next call on the same handle, or its close.
 *   - Buffers returned by coffer_get() and coffer_list() belong to the caller, who frees them with
 *     coffer_free(), which overwrites them with zeros first. They end with a NUL byte that the
 *     returned length does not count.
 *   - Input buffers (names, values, passphrases) are only read during the call; the library
 *     keeps no pointer to them and zeroes its own copies of values and keys when done.
 *
 * Thread safety: one handle per thread. A handle must not be used by two threads at once;
 * different handles may be used on different threads at the same time (each its own vault
 * object; saves are serialised by the vault folder's lock, as between processes).
 *
 * Writes: coffer_set() and coffer_delete() change the handle's copy; coffer_save() writes it
 * atomically (signed, read back, renamed), refusing with COFFER_CONFLICT if the file changed on
 * disk since it was opened, and with COFFER_TAMPERED for a rolled back or forked vault.
 *
 * Trust: the same rules as the `coffer` command, from the same state ($XDG_STATE_HOME/coffer):
 *   - pins (`coffer pin`): from coffer_open_pinned()'s argument, $COFFER_VAULT_PIN, and the
 *     `# coffer-pin:` lines of $COFFER_IDENTITY_FILE, $COFFER_IDENTITY and of any identity file or
 *     text given to an unlock. When any is given, any other vault is refused (COFFER_TAMPERED).
 *   - forged or substituted vaults (a key not linked to the one this machine saw, a known
 *     passphrase slot under another vault id, a passphrase slot whose authenticator fails) are
 *     refused; rolled back and forked ones are read with a warning in coffer_message() and
 *     refused at coffer_save(); in a git repository the history check runs as in the CLI.
 *   - no silent first use: a vault unlocked by identity or session, unpinned, and never vouched
 *     for on this machine (a passphrase unlock, coffer_create_*, `coffer init`, `coffer trust`, a
 *     confirmation at the CLI's prompt) is read with a warning, and written never: coffer_set,
 *     coffer_delete and coffer_save refuse with COFFER_TAMPERED (there is no terminal to ask on).
 */
#ifndef COFFER_H
#define COFFER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The exit codes of the README's table. */
enum coffer_status {
    COFFER_OK = 0,
    COFFER_USAGE = 1,      /* bad input: a name, scope, argument or missing pointer */
    COFFER_NOT_FOUND = 2,  /* no such secret, or no such vault file */
    COFFER_AUTH = 3,       /* wrong passphrase or identity, no key, key does not cover the scope */
    COFFER_TAMPERED = 4,   /* corrupted, tampered, rolled back, forked or forged vault */
    COFFER_CONFLICT = 5,   /* exists without overwrite, no-reveal, changed on disk meanwhile */
    COFFER_IO = 6          /* I/O or permissions */
};

typedef struct coffer_vault coffer_vault;

/* coffer_open flags. */
#define COFFER_OPEN_LOCAL 1u    /* path NULL: the local vault, $XDG_DATA_HOME/coffer/local.coffer */

/* coffer_set flags. */
#define COFFER_OVERWRITE 1u     /* replace an existing entry (else COFFER_CONFLICT) */
#define COFFER_NO_REVEAL 2u     /* mark the entry no-reveal (run/render only, never get) */

/*
 * Opens a vault and checks its signature and key chain, and this machine's trust state (forged
 * or substituted vaults are refused). path NULL or "": the CLI's search order ($COFFER_VAULT,
 * the nearest secrets.coffer up to the repository root, the local vault), or with
 * COFFER_OPEN_LOCAL the local vault. Reading names and metadata needs no key.
 * *out is always set (except when out is NULL); close it with coffer_close().
 */
int coffer_open(const char *path, uint32_t flags, coffer_vault **out);
/*
 * coffer_open, refusing any vault that none of pins names (COFFER_TAMPERED, before any key is
 * asked for). pins: one or more `coffer-pin:v1:...` lines from `coffer pin`, separated by
 * whitespace; NULL for none (the environment's pins still apply).
 */
int coffer_open_pinned(const char *path, uint32_t flags, const char *pins, coffer_vault **out);

/*
 * Creates a vault (refused if a file is there) and returns its handle, unlocked, as `coffer init`
 * does: this machine trusts it as made. path NULL or "": $COFFER_VAULT, else secrets.coffer in the
 * working folder, or with COFFER_OPEN_LOCAL the local vault (its folder made). *out is always set.
 * coffer_create_passphrase: one passphrase slot; kdf_ops and kdf_memory_mib are Argon2id's passes
 * and memory, both 0 for the default (3 passes, 256 MiB). coffer_create_recipient: one slot for an
 * age recipient (age1...). Either handle can set and save at once.
 */
int coffer_create_passphrase(const char *path, uint32_t flags, const uint8_t *passphrase, size_t length,
                             uint64_t kdf_ops, uint64_t kdf_memory_mib, coffer_vault **out);
int coffer_create_recipient(const char *path, uint32_t flags, const char *recipient, coffer_vault **out);
void coffer_close(coffer_vault *vault);

/* The last call's message ("" after success, or the trust warnings of an open). */
const char *coffer_message(const coffer_vault *vault);
/* The path of the vault the handle opened (or tried to). */
const char *coffer_path(const coffer_vault *vault);

/* Unlocking: one of these before coffer_get/set/delete. */
int coffer_unlock_passphrase(coffer_vault *vault, const uint8_t *passphrase, size_t length);
/* An age identity file; passphrase (may be NULL) opens a passphrase-protected one. */
int coffer_unlock_identity_file(coffer_vault *vault, const char *path, const uint8_t *passphrase, size_t length);
/* Identity text: AGE-SECRET-KEY-1... lines, as in an identity file. */
int coffer_unlock_identity(coffer_vault *vault, const uint8_t *identity, size_t length);
/* A session started by `coffer unlock`; token NULL means $COFFER_SESSION. */
int coffer_unlock_session(coffer_vault *vault, const char *token);
/* As the CLI without flags or terminal: a valid session ($COFFER_SESSION), else
 * $COFFER_IDENTITY_FILE, else $COFFER_IDENTITY, else $COFFER_PASSPHRASE_FILE. */
int coffer_unlock_default(coffer_vault *vault);

/*
 * project and domain may be NULL (none). coffer_get resolves as `coffer get` does (project+domain,
 * project, domain, global) and refuses no-reveal entries; set and delete act on that exact scope.
 */
int coffer_get(coffer_vault *vault, const char *name, const char *project, const char *domain,
               uint8_t **value, size_t *length);
/* description NULL keeps an existing entry's (or none for a new one). */
int coffer_set(coffer_vault *vault, const char *name, const char *project, const char *domain,
               const uint8_t *value, size_t length, const char *description, uint32_t flags);
int coffer_delete(coffer_vault *vault, const char *name, const char *project, const char *domain);

/*
 * Names and metadata (never values) as a JSON array of objects with the keys of
 * `coffer list --json`: name, project, domain, scope, created, updated, description, noReveal.
 * Both project and domain NULL: every entry; otherwise the resolved view of that scope.
 */
int coffer_list(coffer_vault *vault, const char *project, const char *domain, char **json, size_t *length);

/* 1 when set/delete changed the vault since it was opened or saved, else 0. */
int coffer_has_unsaved_changes(const coffer_vault *vault);
int coffer_save(coffer_vault *vault);

/* Zeroes and frees a buffer from coffer_get or coffer_list; NULL is ignored. */
void coffer_free(void *buffer);

#ifdef __cplusplus
}
#endif

#endif
