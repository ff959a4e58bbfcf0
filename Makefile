# Coffer: `make demo` and `make test` are all a newcomer needs (see README.md).
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
COFFER = .build/debug/coffer

.PHONY: deps build release lib install install-files uninstall test python-test man-check demo man completions fuzz bench bench-check compare
deps: ## Install libsodium-dev, libssh-dev, libyaml-dev, and for the tests age, ssh-keygen, time, python3-venv, expect, zsh, fish, python3-cryptography, mandoc and xxd, when missing.
	@pkg-config --exists libsodium && pkg-config --exists libssh && pkg-config --exists yaml-0.1 && command -v age >/dev/null && command -v ssh-keygen >/dev/null && [ -x /usr/bin/time ] && /usr/bin/python3 -c 'import cryptography' 2>/dev/null \
	  && python3 -c 'import ensurepip, venv' 2>/dev/null && command -v expect >/dev/null && command -v zsh >/dev/null \
	  && command -v fish >/dev/null && command -v mandoc >/dev/null && command -v xxd >/dev/null || { \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libsodium-dev libssh-dev libyaml-dev age openssh-client time python3-cryptography python3-venv expect zsh fish mandoc xxd >/dev/null; }

build: deps
	$(SWIFT) build

# The binary to install: optimised, with Swift's runtime linked in (nothing to load at start-up,
# which halves it; the binary needs only libc, libstdc++, libsodium and libyaml, and loads libssh
# only to read a protected OpenSSH key). Type metadata through accessor functions, not looked up
# by mangled name: such a lookup of a generic type checks its conformances by scanning all of the
# binary's ~4,000 conformance records. Measured with callgrind, to the first useful step:
# `coffer list` 6.27 -> 3.76 million instructions, `slots list` 13.3 -> 9.7, `--version`
# 11.1 -> 8.2 (Benchmarks/README.md, "Metadata accessors"); the binary grows by 0.3%.
RELEASE_BUILD = $(SWIFT) build -c release --product coffer --static-swift-stdlib \
	-Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors
PREFIX ?= /usr/local
release: deps
	$(RELEASE_BUILD)

# libcoffer.so (the C ABI, Sources/CofferC/include/coffer.h), optimised, Swift's runtime linked in
# (swiftc's -static-stdlib; it needs only libc, libstdc++, libsodium and libyaml, libssh when it reads a
# protected OpenSSH key). Its own build folder:
# the binary's flags differ, and one folder would rebuild everything at each switch.
LIB_BUILD = $(SWIFT) build -c release --product CofferC -Xswiftc -static-stdlib --scratch-path .build/lib
LIBCOFFER ?= .build/lib/release/libCofferC.so
lib: deps
	$(LIB_BUILD)

# Where `make install` puts things (all under $(DESTDIR)$(PREFIX)). To install another file, add
# a line to install-files and its path to INSTALLED.
BINDIR = $(PREFIX)/bin
LIBDIR = $(PREFIX)/lib
INCLUDEDIR = $(PREFIX)/include
MAN1DIR = $(PREFIX)/share/man/man1
BASHDIR = $(PREFIX)/share/bash-completion/completions
ZSHDIR = $(PREFIX)/share/zsh/site-functions
FISHDIR = $(PREFIX)/share/fish/vendor_completions.d
INSTALLED = $(BINDIR)/coffer $(LIBDIR)/libcoffer.so $(INCLUDEDIR)/coffer.h $(MAN1DIR)/coffer.1 \
	$(BASHDIR)/coffer $(ZSHDIR)/_coffer $(FISHDIR)/coffer.fish
# What install-files copies: the release binary (stripped on the way), the library and the
# manual `make man` writes.
INSTALL_BINARY ?= .build/release/coffer
MAN_PAGE ?= man/coffer.1

install: release lib man
	$(MAKE) --no-print-directory install-files
	@[ -n "$(DESTDIR)" ] || ldconfig 2>/dev/null || true   # so that dlopen("libcoffer.so") finds it

# Installs already-built files; the completion scripts come from the binary being installed.
install-files:
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(MAN1DIR) \
	  $(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR) $(DESTDIR)$(FISHDIR)
	install -s -m 0755 $(INSTALL_BINARY) $(DESTDIR)$(BINDIR)/coffer
	install -m 0755 $(LIBCOFFER) $(DESTDIR)$(LIBDIR)/libcoffer.so
	install -m 0644 Sources/CofferC/include/coffer.h $(DESTDIR)$(INCLUDEDIR)/coffer.h
	install -m 0644 $(MAN_PAGE) $(DESTDIR)$(MAN1DIR)/coffer.1
	$(INSTALL_BINARY) --generate-completion-script bash > $(DESTDIR)$(BASHDIR)/coffer
	$(INSTALL_BINARY) --generate-completion-script zsh > $(DESTDIR)$(ZSHDIR)/_coffer
	$(INSTALL_BINARY) --generate-completion-script fish > $(DESTDIR)$(FISHDIR)/coffer.fish

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# The release binary first: a test checks that it ignores the test hooks (ReleaseBuildTests).
test: deps
	$(RELEASE_BUILD)
	$(SWIFT) test
	$(MAKE) --no-print-directory python-test
	$(MAKE) --no-print-directory man-check
	@if [ "$${CI:-}" = true ]; then $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=60 && $(MAKE) --no-print-directory bench-check; fi

# The Python package's tests (python/tests) through the real libcoffer.so and coffer binary, in a
# virtual environment kept under .build/venv (flytekit, for the Flyte task test, under .build/flyte-venv).
# pytest's exit 5 (nothing collected) is a failure.
VENV = .build/venv
python-test: deps
	$(SWIFT) build --product coffer && $(SWIFT) build --product CofferC
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/pip install -q --disable-pip-version-check pytest "setuptools>=61" wheel
	@$(VENV)/bin/pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps ./python
	@status=0; COFFER_LIBRARY=$$PWD/.build/debug/libCofferC.so COFFER_CLI=$$PWD/$(COFFER) COFFER_FLYTE_VENV=$$PWD/.build/flyte-venv \
	  $(VENV)/bin/python -m pytest -q -rs python/tests || status=$$?; \
	  if [ $$status -eq 5 ]; then echo "python-test: pytest collected no tests" >&2; exit 1; fi; exit $$status

# The benchmark package (Benchmarks/README.md): every benchmark, about 5 minutes from cold.
bench: deps
	cd Benchmarks && $(SWIFT) package benchmark --no-progress

# Allocation counts against the committed thresholds (CI runs this inside `make test`).
BENCH_SELECTION = --path Thresholds/6.3 --skip 'Argon2id\..*|AEAD\.ratio\..*' --metric mallocCountTotal --no-progress
bench-check: deps
	cd Benchmarks && $(SWIFT) package benchmark thresholds check $(BENCH_SELECTION)

# Whole-process figures and the peers (age, KeePassXC, ansible-vault), side by side.
compare: release
	COFFER=$$PWD/.build/release/coffer bash Benchmarks/scripts/session-get.sh
	COFFER=$$PWD/.build/release/coffer bash Benchmarks/scripts/fast-get.sh
	COFFER=$$PWD/.build/release/coffer bash Benchmarks/scripts/merge.sh
	COFFER=$$PWD/.build/release/coffer bash Benchmarks/scripts/size-memory.sh
	COFFER=$$PWD/.build/release/coffer bash Benchmarks/scripts/python-get.sh
	COFFER=$$PWD/.build/release/coffer bash Benchmarks/peers/compare.sh
	COFFER=$$PWD/.build/release/coffer PEERS=age KDF_COSTS=0 SIZES="1000 10000 100000" bash Benchmarks/peers/compare.sh

# libFuzzer over the codec and the whole open path, FUZZ_SECONDS each (CI: a 60-second smoke).
# SwiftPM's --sanitize=fuzzer links libFuzzer; -Xswiftc -sanitize=fuzzer also instruments the
# dependencies (our modules) for coverage, which --sanitize alone does not.
FUZZ_SECONDS ?= 600
FUZZ_BUILD = .build-fuzz
fuzz: build
	for target in FuzzCodec FuzzOpen; do \
	  $(SWIFT) build --package-path Fuzz --scratch-path $(FUZZ_BUILD) -c release --product $$target \
	    --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer || exit 1; \
	done
	@set -e; corpus=$$(mktemp -d); trap 'rm -rf "$$corpus"' EXIT; mkdir -p "$$corpus/seeds" fuzz-out; \
	export XDG_STATE_HOME="$$corpus/state" XDG_DATA_HOME="$$corpus/data"; \
	cp Specs/test-vectors/*.coffer "$$corpus/seeds/"; printf 'correct horse battery staple\n' > "$$corpus/pw"; \
	$(COFFER) init --vault "$$corpus/seeds/made.coffer" --kdf-ops 1 --kdf-memory 8 --passphrase-file "$$corpus/pw" 2>/dev/null; \
	printf 'A=1\nexport B="two"\n' > "$$corpus/x.env"; \
	$(COFFER) import "$$corpus/x.env" --vault "$$corpus/seeds/made.coffer" --project p --passphrase-file "$$corpus/pw" 2>/dev/null; \
	for target in FuzzCodec FuzzOpen; do \
	  mkdir -p "fuzz-out/$$target"; status=0; \
	  $(FUZZ_BUILD)/release/$$target "fuzz-out/$$target" "$$corpus/seeds" -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=2048 -malloc_limit_mb=512 -artifact_prefix="fuzz-out/$$target-" -print_final_stats=1 \
	    >"$$corpus/$$target.log" 2>&1 || status=$$?; \
	  grep -E "^(#[0-9]+.*(DONE|pulse)|stat::number_of_executed_units|stat::average_exec_per_sec|.*ERROR|.*crash)" "$$corpus/$$target.log" | tail -4; \
	  [ $$status -eq 0 ] || { echo "$$target failed (exit $$status); inputs in fuzz-out/" >&2; exit $$status; }; \
	done

# A real session on a temporary vault, narrated as it runs.
demo: build
	@set -e; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; c="$$PWD/$(COFFER)"; cd "$$dir"; \
	export XDG_RUNTIME_DIR="$$dir/run" XDG_DATA_HOME="$$dir/data" XDG_STATE_HOME="$$dir/state"; mkdir -m 700 run; \
	step() { printf '\n\033[1m$$ %s\033[0m\n' "$$*"; }; \
	printf 'correct horse battery staple\n' > passphrase.txt; \
	step "coffer init --kdf interactive --passphrase-file passphrase.txt   # a terminal would ask twice, hidden"; \
	$$c init --kdf interactive --passphrase-file passphrase.txt; \
	step "printf 's3cr3t-pg-pa\$$word' | coffer set pg.password --description 'app database'"; \
	printf 's3cr3t-pg-pa$$word' | $$c set pg.password --description 'app database' --passphrase-file passphrase.txt; \
	printf '# exported from the old CI\nexport API_TOKEN="tok_123"\nDB_HOST=db.internal\n' > app.env; \
	step "coffer import app.env"; $$c import app.env --passphrase-file passphrase.txt; \
	step "coffer generate webhook.secret --length 40"; $$c generate webhook.secret --length 40 --passphrase-file passphrase.txt; \
	step "coffer set api.key --project shop --domain prod --no-reveal"; echo prod-key | $$c set api.key --project shop --domain prod --no-reveal --passphrase-file passphrase.txt; \
	step "coffer set db.url --project shop --domain dev"; echo postgres://dev | $$c set db.url --project shop --domain dev --passphrase-file passphrase.txt; \
	step "coffer list   # no passphrase needed: names and metadata are plaintext, signed"; $$c list; \
	step "coffer get pg.password"; $$c get pg.password --passphrase-file passphrase.txt; echo; \
	step "coffer get api.key --project shop --domain prod   # no-reveal: refused, exit 5"; \
	$$c get api.key --project shop --domain prod --passphrase-file passphrase.txt || echo "(exit $$?)"; \
	step "coffer delete DB_HOST"; $$c delete DB_HOST --passphrase-file passphrase.txt; \
	step 'eval "$$(coffer unlock)"   # one Argon2id, then no passphrase for a while'; \
	eval "$$($$c unlock --passphrase-file passphrase.txt)"; \
	step "coffer get API_TOKEN   # via the session"; $$c get API_TOKEN; echo; \
	step "coffer run --only pg.password -- sh -c 'echo connecting with \$$PG_PASSWORD' | cat   # masked: output is not a terminal"; \
	$$c run --only pg.password -- sh -c 'echo connecting with $$PG_PASSWORD' | cat; \
	printf "steps:\n  - token: \"{{ secret('API_TOKEN') }}\"\n" > flow.yml; \
	step "coffer render flow.yml   # Kestra-style template"; $$c render flow.yml; \
	step "coffer export --format kestra --only API_TOKEN --force"; $$c export --format kestra --only API_TOKEN --force; \
	step "coffer mv webhook.secret hooks.signing   # created time, description and flags kept"; $$c mv webhook.secret hooks.signing; \
	step "coffer describe pg.password 'primary database'   # no value needed"; $$c describe pg.password 'primary database'; \
	step "coffer pin   # the vault's identity: a CI job given it refuses any other vault"; $$c pin; \
	step "coffer slots add-recipient --identity-out ci.key --project shop --domain prod   # a CI key, its slot and the pin in one file"; \
	$$c slots add-recipient --identity-out ci.key --project shop --domain prod --label ci; \
	step "coffer slots list"; $$c slots list; \
	step "coffer rotate   # fresh master key, every entry re-sealed, every slot re-wrapped"; $$c rotate; \
	step "coffer inspect"; $$c inspect; \
	step "coffer verify   # signature only, no key"; env -u COFFER_SESSION $$c verify; \
	step "coffer verify --identity ci.key   # the CI key opens its scope's entries only"; $$c verify --identity ci.key; \
	step "coffer lock"; $$c lock; \
	printf '\nDemo vault was %s/secrets.coffer (removed now).\n' "$$dir"

completions: build ## Shell completions into completions/ (see README).
	@mkdir -p completions; for s in bash zsh fish; do $(COFFER) --generate-completion-script $$s > completions/coffer.$$s; done; ls completions

man: deps ## The man page, via swift-argument-parser's generate-manual plugin and Docs/, into man/.
	$(SWIFT) package plugin generate-manual --configuration debug
	@mkdir -p man && awk -v sections=Docs/coffer.1.sections -f Docs/man-page.awk \
	  .build/plugins/GenerateManual/outputs/CofferCLI/coffer.1 > man/coffer.1 && ls man

# The whole manual renders without mandoc warnings.
man-check: man
	mandoc -T lint -W warning man/coffer.1
