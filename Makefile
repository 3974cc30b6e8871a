# attest: the two commands. Everything else is CMake/ctest.
#   make demo   install what is missing, build, run the end-to-end demo
#   make check  install what is missing, build twice (hardened release and
#               ASan+UBSan), run every test in both, plus the source checks
#               and the static analysis (clang-tidy, cppcheck) before them,
#               and fuzz every libFuzzer target a few seconds (check-fuzz)
#   make fuzz   fuzz every target longer (FUZZ_SECONDS each, default 60)
BUILD      ?= build
ASAN_BUILD ?= build-asan
STATIC_BUILD ?= build-static
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 3
FUZZ_JOBS  ?= 2
# Only the fuzz executables and the libraries they link, never the daemons.
FUZZ_TARGETS := $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all deps build build-asan build-fuzz check check-release check-asan check-fuzz fuzz \
        lint static demo bench clean

all: build

deps:
	@scripts/install-deps.sh all

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATT_WERROR=ON $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DATT_WERROR=ON \
	      -DATT_SANITIZE=address,undefined $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# clang with libFuzzer, ASan and UBSan (cmake/Fuzzing.cmake).
build-fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DATT_FUZZ=ON \
	      -DATT_WERROR=ON $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_TARGETS)

lint:
	@scripts/lint.sh

static: deps
	@scripts/static-check.sh $(STATIC_BUILD) $(CMAKE_ARGS)

check-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

check-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# Each target a few seconds on a copy of its seeds: a crash, leak or hang fails.
check-fuzz: build-fuzz
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_CHECK_SECONDS) $(FUZZ_JOBS) --check

fuzz: build-fuzz
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_JOBS)

check: lint static check-release check-asan check-fuzz
	@echo "make check: all tests passed in the release and the ASan+UBSan builds, and fuzzing found nothing"

demo: build
	bash demo/demo.sh $(BUILD)/bin

bench: build
	bash bench/run.sh $(BUILD)/bin

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(STATIC_BUILD) $(FUZZ_BUILD)
