# attest: the two commands. Everything else is CMake/ctest.
#   make demo   install what is missing, build, run the end-to-end demo
#   make check  install what is missing, build twice (hardened release and
#               ASan+UBSan), run every test in both, plus the source checks
#               and the static analysis (clang-tidy, cppcheck) before them
BUILD      ?= build
ASAN_BUILD ?= build-asan
STATIC_BUILD ?= build-static
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all deps build build-asan check check-release check-asan lint static demo bench clean

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

lint:
	@scripts/lint.sh

static: deps
	@scripts/static-check.sh $(STATIC_BUILD) $(CMAKE_ARGS)

check-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

check-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

check: lint static check-release check-asan
	@echo "make check: all tests passed in the release and the ASan+UBSan builds"

demo: build
	bash demo/demo.sh $(BUILD)/bin

bench: build
	bash bench/run.sh $(BUILD)/bin

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(STATIC_BUILD)
