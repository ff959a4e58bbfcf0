/* The floor under `coffer rotate`: only the work Specs/rotation.md and issue 22 require of a
   re-key, written in C straight onto libsodium, on a file of the vault's size and entry count.
   compare.sh times it beside coffer and age, so the re-key rows show how much of coffer's time
   is its format's required work and how much is coffer's own.

   rekey-floor make FILE ENTRIES VALUE_BYTES FILE_BYTES   (untimed) a file of ENTRIES records
   rekey-floor run FILE                                   (timed) one re-key of it

   The file: a 72-byte header (8 bytes each of entry count, record size and value size, a
   32-byte data key, 16 of vault id), then ENTRIES records, each a 16-byte name ("k" and its number) then the
   value sealed under that key as coffer seals one (XChaCha20-Poly1305, 24-byte nonce, 16-byte
   tag), padded to FILE_BYTES / ENTRIES, then a 64-byte signature. A run does what a re-key
   must: reads the file, hashes it (BLAKE2b-512) on a second thread while it verifies a key
   chain of one link, verifies the file's Ed25519 signature; then on one thread per CPU, for
   every record, derives the old and the new entry keys (keyed BLAKE2b-256 over the name),
   opens the old value, seals it under the new key with a fresh nonce (1,024 nonces per draw of
   randomness, as coffer), opens the new seal and compares; then hashes and signs the new file,
   checks the signature, writes it to a temporary file, reads it back and compares, fsyncs,
   renames it over the old one and fsyncs the folder. It leaves out what coffer does besides:
   parsing and checking the format's fields, slots, the trust state, sessions, locks, and
   the process start of a Swift binary. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { header_bytes = 72, name_bytes = 16, signature_bytes = 64, nonce_bytes = 24, tag_bytes = 16 };

static void fail(const char *what) { fprintf(stderr, "rekey-floor: %s\n", what); exit(1); }

/* Associated data as long as coffer's for a global entry with a 12-byte name: a 13-byte label,
   the vault id and the name. */
enum { ad_bytes = 13 + 16 + name_bytes };
static void associated_data(unsigned char ad[ad_bytes], const unsigned char *vault_id, const unsigned char *name) {
    memcpy(ad, "coffer-entry", 13);
    memcpy(ad + 13, vault_id, 16);
    memcpy(ad + 29, name, name_bytes);
}

typedef struct {
    unsigned char *in, *out;
    uint64_t first, end, record_bytes, value_bytes;
    const unsigned char *old_key, *new_key, *vault_id;
    int failed;
} part_t;

static void *reseal(void *argument) {
    part_t *part = argument;
    crypto_generichash_state old_keyed, new_keyed, state;
    crypto_generichash_init(&old_keyed, part->old_key, 32, 32);
    crypto_generichash_init(&new_keyed, part->new_key, 32, 32);
    unsigned char old_entry_key[32], new_entry_key[32], ad[ad_bytes], nonces[1024 * nonce_bytes], seed[32];
    unsigned char *value = malloc(part->value_bytes), *check = malloc(part->value_bytes);
    size_t next_nonce = 1024;
    for (uint64_t record = part->first; record < part->end; record++) {
        const unsigned char *in = part->in + header_bytes + record * part->record_bytes;
        unsigned char *out = part->out + header_bytes + record * part->record_bytes;
        state = old_keyed; crypto_generichash_update(&state, in, name_bytes); crypto_generichash_final(&state, old_entry_key, 32);
        state = new_keyed; crypto_generichash_update(&state, in, name_bytes); crypto_generichash_final(&state, new_entry_key, 32);
        associated_data(ad, part->vault_id, in);
        const unsigned char *sealed = in + name_bytes;
        unsigned char *resealed = out + name_bytes;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(value, NULL, sealed + nonce_bytes, part->value_bytes,
                sealed + nonce_bytes + part->value_bytes, ad, ad_bytes, sealed, old_entry_key) != 0) { part->failed = 1; break; }
        if (next_nonce == 1024) {
            randombytes_buf(seed, sizeof seed);
            randombytes_buf_deterministic(nonces, sizeof nonces, seed);
            next_nonce = 0;
        }
        memcpy(resealed, nonces + nonce_bytes * next_nonce++, nonce_bytes);
        crypto_aead_xchacha20poly1305_ietf_encrypt_detached(resealed + nonce_bytes, resealed + nonce_bytes + part->value_bytes,
            NULL, value, part->value_bytes, ad, ad_bytes, NULL, resealed, new_entry_key);
        if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(check, NULL, resealed + nonce_bytes, part->value_bytes,
                resealed + nonce_bytes + part->value_bytes, ad, ad_bytes, resealed, new_entry_key) != 0
            || sodium_memcmp(value, check, part->value_bytes) != 0) { part->failed = 1; break; }
    }
    sodium_memzero(value, part->value_bytes);
    sodium_memzero(check, part->value_bytes);
    free(value);
    free(check);
    return NULL;
}

static void *hash_file(void *argument) {
    part_t *part = argument;
    crypto_generichash(part->out, 64, part->in, part->end, NULL, 0);
    return NULL;
}

/* Another CPU than the caller's, as coffer's Concurrently starts its threads. */
static void start_elsewhere(pthread_t *thread, void *(*start)(void *), void *argument) {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) > 1) {
        CPU_CLR(sched_getcpu(), &allowed);
        pthread_attr_setaffinity_np(&attributes, sizeof allowed, &allowed);
    }
    if (pthread_create(thread, &attributes, start, argument) != 0) fail("no thread");
    pthread_attr_destroy(&attributes);
}

static void make(const char *path, uint64_t entries, uint64_t value_bytes, uint64_t file_bytes) {
    uint64_t record_bytes = file_bytes / entries;
    if (record_bytes < name_bytes + nonce_bytes + value_bytes + tag_bytes) record_bytes = name_bytes + nonce_bytes + value_bytes + tag_bytes;
    uint64_t size = header_bytes + entries * record_bytes + signature_bytes;
    unsigned char *file = calloc(1, size), *value = malloc(value_bytes), ad[ad_bytes], entry_key[32];
    memcpy(file, &entries, 8);
    memcpy(file + 8, &record_bytes, 8);
    memcpy(file + 16, &value_bytes, 8);
    randombytes_buf(file + 24, 48);
    for (uint64_t record = 0; record < entries; record++) {
        unsigned char *at = file + header_bytes + record * record_bytes;
        snprintf((char *)at, name_bytes, "k%u", (unsigned)record);
        crypto_generichash(entry_key, 32, at, name_bytes, file + 24, 32);
        associated_data(ad, file + 56, at);
        randombytes_buf(value, value_bytes);
        randombytes_buf(at + name_bytes, nonce_bytes);
        crypto_aead_xchacha20poly1305_ietf_encrypt_detached(at + name_bytes + nonce_bytes, at + name_bytes + nonce_bytes + value_bytes,
            NULL, value, value_bytes, ad, ad_bytes, NULL, at + name_bytes, entry_key);
    }
    FILE *out = fopen(path, "wb");
    if (!out || fwrite(file, 1, size, out) != size || fclose(out) != 0) fail("cannot write the file");
}

static void run(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) fail("cannot open the file");
    off_t size = lseek(fd, 0, SEEK_END);
    unsigned char *in = malloc(size), *out = malloc(size), *back = malloc(size);
    if (pread(fd, in, size, 0) != size) fail("cannot read the file");
    close(fd);
    uint64_t entries, record_bytes, value_bytes;
    memcpy(&entries, in, 8);
    memcpy(&record_bytes, in + 8, 8);
    memcpy(&value_bytes, in + 16, 8);

    /* Verify: the hash on a second thread, a key-chain link and the file's signature here. */
    unsigned char hash[64], seed[32], public_key[32], secret_key[64], signature[64];
    part_t whole = { .in = in, .out = hash, .end = size - signature_bytes };
    pthread_t thread;
    start_elsewhere(&thread, hash_file, &whole);
    randombytes_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(public_key, secret_key, seed);
    crypto_sign_detached(signature, NULL, in + 24, 48, secret_key);
    if (crypto_sign_verify_detached(signature, in + 24, 48, public_key) != 0) fail("link");
    pthread_join(thread, NULL);
    crypto_sign_detached(signature, NULL, hash, sizeof hash, secret_key);
    if (crypto_sign_verify_detached(signature, hash, sizeof hash, public_key) != 0) fail("signature");

    /* Re-seal every record, one part per CPU. */
    memcpy(out, in, size);
    unsigned char new_key[32];
    randombytes_buf(new_key, sizeof new_key);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int count = cpus < 2 ? 2 : cpus > 8 ? 8 : (int)cpus;
    part_t parts[8];
    pthread_t threads[8];
    for (int part = 0; part < count; part++) {
        parts[part] = (part_t){ .in = in, .out = out, .first = entries * part / count, .end = entries * (part + 1) / count,
            .record_bytes = record_bytes, .value_bytes = value_bytes, .old_key = in + 24, .new_key = new_key, .vault_id = in + 56 };
        if (part > 0) start_elsewhere(&threads[part], reseal, &parts[part]);
    }
    reseal(&parts[0]);
    for (int part = 1; part < count; part++) pthread_join(threads[part], NULL);
    for (int part = 0; part < count; part++) if (parts[part].failed) fail("an entry did not open");
    memcpy(out + 24, new_key, sizeof new_key);

    /* Sign, write, read back, replace. */
    crypto_generichash(hash, sizeof hash, out, size - signature_bytes, NULL, 0);
    crypto_sign_detached(out + size - signature_bytes, NULL, hash, sizeof hash, secret_key);
    if (crypto_sign_verify_detached(out + size - signature_bytes, hash, sizeof hash, public_key) != 0) fail("new signature");
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    int written = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (written < 0 || write(written, out, size) != size) fail("cannot write the temporary file");
    int reread = open(temporary, O_RDONLY);
    if (reread < 0 || pread(reread, back, size, 0) != size || memcmp(back, out, size) != 0) fail("read back");
    close(reread);
    if (fsync(written) != 0 || close(written) != 0 || rename(temporary, path) != 0) fail("cannot replace the file");
    char folder[4096];
    snprintf(folder, sizeof folder, "%s", path);
    char *slash = strrchr(folder, '/');
    if (slash) *slash = 0; else snprintf(folder, sizeof folder, ".");
    int directory = open(folder, O_RDONLY | O_DIRECTORY);
    if (directory < 0 || fsync(directory) != 0) fail("cannot sync the folder");
    close(directory);
}

int main(int argc, char **argv) {
    if (sodium_init() < 0) fail("libsodium did not initialise");
    if (argc == 6 && strcmp(argv[1], "make") == 0) {
        make(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10));
    } else if (argc == 3 && strcmp(argv[1], "run") == 0) {
        run(argv[2]);
    } else {
        fail("usage: rekey-floor make FILE ENTRIES VALUE_BYTES FILE_BYTES | rekey-floor run FILE");
    }
    return 0;
}
