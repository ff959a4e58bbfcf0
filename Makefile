# Coffer: `make demo` and `make test` are all a newcomer needs (see README.md).
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build test demo
deps: ## Install libsodium-dev (and age, for interop tests) when missing.
	@pkg-config --exists libsodium && command -v age >/dev/null || { \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libsodium-dev age >/dev/null; }

build: deps
	$(SWIFT) build

test: deps
	$(SWIFT) test
