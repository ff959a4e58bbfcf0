"""coffer.h from C: a program compiled against the header and linked with libcoffer.so, and
handles used from several threads at once (one per thread, as the header allows)."""
import os
import shutil
import subprocess
import threading

import pytest

import coffer
from conftest import PASSPHRASE

HEADER_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "CofferC", "include")

PROGRAM = r'''
#include <coffer.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    coffer_vault *vault = NULL;
    int status = coffer_open(argv[1], 0, &vault);
    if (status != COFFER_OK) { printf("open %d %s\n", status, coffer_message(vault)); coffer_close(vault); return 1; }
    status = coffer_unlock_passphrase(vault, (const uint8_t *)argv[2], strlen(argv[2]));
    if (status != COFFER_OK) { printf("unlock %d\n", status); return 1; }
    uint8_t *value = NULL;
    size_t length = 0;
    status = coffer_get(vault, "pg.password", NULL, NULL, &value, &length);
    printf("get %d %.*s %s\n", status, (int)length, (const char *)value, (const char *)value);
    coffer_free(value);
    status = coffer_get(vault, "missing", NULL, NULL, &value, &length);
    printf("missing %d %s\n", status, coffer_message(vault));
    status = coffer_set(vault, "bad name", NULL, NULL, (const uint8_t *)"v", 1, NULL, 0);
    printf("bad %d\n", status);
    status = coffer_set(vault, "from.c", "shop", NULL, (const uint8_t *)"c-value", 7, "from C", COFFER_OVERWRITE);
    printf("set %d unsaved %d\n", status, coffer_has_unsaved_changes(vault));
    printf("save %d\n", coffer_save(vault));
    char *json = NULL;
    status = coffer_list(vault, "shop", NULL, &json, &length);
    printf("list %d %zu %d\n", status, length, strstr(json, "\"name\":\"from.c\"") != NULL);
    coffer_free(json);
    coffer_close(vault);
    coffer_free(NULL);
    return 0;
}
'''


def compiler():
    for name in ("cc", "clang", "gcc"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no C compiler (cc, clang or gcc): the Swift toolchain brings clang")


def build_program(folder, name, text):
    """Compiles `text` against coffer.h (-Wall -Werror) and links it with libcoffer.so."""
    library = os.environ["COFFER_LIBRARY"]
    source = folder / (name + ".c")
    source.write_text(text)
    binary = folder / name
    subprocess.run([compiler(), "-std=c99", "-Wall", "-Werror", "-I", HEADER_DIR, str(source), library,
                    "-Wl,-rpath," + os.path.dirname(library), "-o", str(binary)], check=True)
    return str(binary)


def test_c_program_uses_the_header(vault_path, home, cli):
    binary = build_program(home, "smoke", PROGRAM)
    result = subprocess.run([binary, vault_path, PASSPHRASE], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "get 0 s3cr3t-pg s3cr3t-pg"  # and NUL-terminated
    assert lines[1] == "missing 2 no secret missing (global)"
    assert lines[2] == "bad 1"
    assert lines[3:5] == ["set 0 unsaved 1", "save 0"]
    assert lines[5].startswith("list 0 ") and lines[5].endswith(" 1")
    assert cli.get(vault_path, "from.c", "--project", "shop").stdout == b"c-value"


def test_one_handle_per_thread_in_parallel(vault_path):
    errors = []

    def reader():
        try:
            for _ in range(20):
                with coffer.Vault(vault_path) as vault:
                    vault.unlock(PASSPHRASE)
                    assert vault.get("pg.password") == b"s3cr3t-pg"
                    assert vault.get_str("api.key", project="shop") == "shop-key"
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
