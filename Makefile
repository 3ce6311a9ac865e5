# Entry points. Each installs what it needs (idempotently) and then builds.
#   make demo    the end-to-end demo on embedded defaults (no servers)
#   make test    every test, with real loopback peers started and stopped by the tests
#   make bench   release-build benchmarks with figures and ratios to reference tools
#   make soak    the crash test with 1000 SIGKILLs
#   make fuzz    bounded libFuzzer runs of the untrusted-input parsers
SWIFT ?= swift
BIN_DEBUG = .build/debug
BIN_RELEASE = .build/release
CRASH_KILLS ?= 60

.PHONY: deps peers build release demo test unit integration bench soak fuzz clean

deps:
	@scripts/install-deps.sh

peers:
	@scripts/install-deps.sh --peers

build: deps
	$(SWIFT) build --product nis2ctl

release: deps
	$(SWIFT) build -c release --product nis2ctl

demo: release
	@scripts/demo.sh $(BIN_RELEASE)/nis2ctl

test: peers
	$(SWIFT) build --build-tests
	scripts/run-tests.sh
	$(MAKE) --no-print-directory integration
	# The release build behaves differently from the debug one (object lifetimes end
	# earlier): the main job runs as users run it.
	$(MAKE) --no-print-directory demo

integration:
	Tests/Integration/run.sh $(BIN_DEBUG)/nis2ctl $(CRASH_KILLS)

# 1000 SIGKILLs as ten runs of 100 on fresh stores: every kill is checked against the
# whole log, so one ever-growing store would make the soak quadratic in time.
soak: build
	for run in 1 2 3 4 5 6 7 8 9 10; do Tests/Integration/crash_test.py $(BIN_DEBUG)/nis2ctl 100 || exit 1; done

bench: peers
	$(SWIFT) build -c release
	@scripts/bench.sh $(BIN_RELEASE)

fuzz: deps
	scripts/fuzz.sh $${FUZZ_SECONDS:-30}

clean:
	rm -rf .build
