# kura: a thin wrapper over CMake/ctest for STYLE.md §10's targets.
#   make            release build (build/kura), installing build dependencies first
#   make run        dependencies + build + `kura serve` on ./data, 127.0.0.1:9000
#   make test       the whole suite: plain + crash/fault/soak, ASan/UBSan, fuzz, TSan (scripts/test.sh)
#   make asan       ASan/UBSan build in build-asan/ and its ctest run
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (clang, build-fuzz/)
#   make tsan       ThreadSanitizer: store unit test + concurrent clients (build-tsan/)
#   make soak       load soak against a release kura for SOAK_SECONDS (60)
#   make valgrind   unit tests under valgrind (build-valgrind/)
#   make lint       banned functions + clang-tidy (LINT_TIDY=0 skips clang-tidy)
#   make format     clang-format in place (format-check: report only)
#   make bench      bench/run.sh; never part of `make test`
SHELL := /bin/bash
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
DATA ?= ./data
LISTEN ?= 127.0.0.1:9000
REGION ?= us-east-1
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 60
TSAN_SECONDS ?= 20
LINT_TIDY ?= 1
CMAKE ?= cmake
C_SOURCES = $(shell find src tests/unit tests/fuzz -name '*.[ch]' 2>/dev/null)
BANNED = sprintf|strcpy|strcat|strncat|strtok|gets|atoi|atol

.PHONY: all deps test-deps build run test asan fuzz tsan soak valgrind lint format format-check bench clean

all: build

deps:
	scripts/deps.sh

# A failed install is a warning here: the tools may come from elsewhere (e.g.
# NodeSource's nodejs bundles npm); the commands below fail if one is missing.
test-deps:
	KURA_TEST_DEPS=1 scripts/deps.sh || echo "make: scripts/deps.sh failed; going on with what is installed"

build: deps
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=Release
	$(CMAKE) --build build -j$(JOBS)

run: build
	exec build/kura serve --data $(DATA) --listen $(LISTEN) --region $(REGION)

test:
	scripts/test.sh

asan: test-deps
	$(CMAKE) -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKURA_SANITIZE=ON
	$(CMAKE) --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure

fuzz: test-deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

tsan: test-deps
	KURA_TSAN_SECONDS=$(TSAN_SECONDS) tests/tsan/run.sh

soak: build
	python3 tests/soak/soak.py build/kura --seconds $(SOAK_SECONDS)

valgrind: test-deps
	$(CMAKE) -S . -B build-valgrind -DCMAKE_BUILD_TYPE=Debug
	$(CMAKE) --build build-valgrind -j$(JOBS)
	@set -e; for t in $$(find build-valgrind -maxdepth 1 -type f -name 'test_*' -executable | sort); do \
	    echo "== valgrind $$t"; \
	    valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	        --track-origins=yes $$t; \
	done

lint:
	@if grep -rnwE '($(BANNED))[[:space:]]*\(' src/; then \
	    echo "lint: banned function(s) above (STYLE.md §10: $(BANNED))"; exit 1; \
	else echo "lint: no banned functions in src/"; fi
ifeq ($(LINT_TIDY),1)
	$(CMAKE) -S . -B build-lint -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
	@if [ -f .clang-tidy ]; then opts=(); else \
	    opts=(--checks=-*,bugprone-*,cert-err33-c,clang-analyzer-*,readability-function-size,-bugprone-easily-swappable-parameters,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling \
	          "--config={CheckOptions: [{key: readability-function-size.LineThreshold, value: 80}]}"); fi; \
	 files=$$(find src -name '*.c' | sort); [ -z "$$files" ] || \
	 clang-tidy -p build-lint --quiet --warnings-as-errors='*' "$${opts[@]}" $$files
endif

format:
	clang-format -i $(C_SOURCES)

format-check:
	clang-format --dry-run --Werror $(C_SOURCES)

bench:
	bench/run.sh

clean:
	rm -rf build build-asan build-fuzz build-tsan build-valgrind build-lint
