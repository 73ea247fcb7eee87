# The socketserver tutorial in C++. Start here:
#
#   make tour     build everything, then walk through every chapter
#   make test     build everything, then run the unit tests and the pytest harness
#   make bench    the server designs measured, C++ against Python (a table and a chart)
#   make check-docs   run every README transcript and compare its output
#   make fuzz     libFuzzer on the parsers of untrusted bytes, 60 s each (clang++)
#   make tsan-lost-signal   the ThreadSanitizer fault 05's stop is built around
#
# Also: make (build all), make -C 03_stream_handler (one chapter),
# make SANITIZE=address,undefined test, make SANITIZE=thread test,
# make PORTABLE=1 test (POSIX fallbacks only), make CXX="clang++ -stdlib=libc++"
# test (clang with macOS's standard library), make clean.

CHAPTERS := $(sort $(wildcard [0-9][0-9]_*))
SANITIZE ?=
export SANITIZE

all: $(CHAPTERS)

# common/ first, alone: chapters built in parallel then only read the library.
lib:
	@$(MAKE) --no-print-directory -f common/build.mk lib

$(CHAPTERS): lib
	@$(MAKE) --no-print-directory -C $@

unit: lib
	@$(MAKE) --no-print-directory -C tests all

# The server-design benchmark: a table, tests/bench/results.csv and chart.png.
# Installs gnuplot and iperf3 with apt-get when run as root and they are missing.
bench: all unit
	@tests/deps.sh --bench
	python3 tests/bench.py

deps:
	@tests/deps.sh
	@$(if $(findstring libc++,$(CXX)),tests/deps.sh --libcxx,:)

# Dependencies first (they may be installed), then the build, then both
# layers, then the README transcripts (default build only: sanitizers,
# PORTABLE=1 and another compiler change how, not what, a README shows).
test: deps
	@$(MAKE) --no-print-directory all unit
	tests/unit_tests --gtest_brief=1
	$(if $(SANITIZE),STOP_SECONDS=5) $$(tests/deps.sh --python) -m pytest tests -q -p no:cacheprovider
	$(if $(SANITIZE)$(PORTABLE)$(filter-out g++,$(CXX)),,@$(MAKE) --no-print-directory check-docs)

# Every "$ command" in every README is run and its output compared
# (tests/check_docs.py says how, and why not cram).
check-docs:
	@$(MAKE) --no-print-directory SANITIZE= all
	python3 tests/check_docs.py

tour: all
	python3 tests/tour.py

# libFuzzer targets (tests/fuzz/): the line reader, address parsing and the
# command line, FUZZ_SECONDS each. Installs clang and libFuzzer if it can.
FUZZ_SECONDS ?= 60
fuzz:
	@tests/deps.sh --fuzz
	@$(MAKE) --no-print-directory -C tests/fuzz run SECONDS=$(FUZZ_SECONDS)

# ThreadSanitizer losing a SIGTERM (tests/tsan/): one cut-down forking
# parent, three builds with each of COMPILERS (default g++ clang++),
# TSAN_RUNS runs each (default 3000, about 75 s a build, 8 minutes in all);
# prints how many were lost. Why 05's parent waits in ppoll().
tsan-lost-signal:
	@$(MAKE) --no-print-directory -C tests/tsan run

# One chapter as a lab folder that builds, runs and grades itself:
#   make export CHAPTER=04 DEST=../lab4 [STARTER=1]   (tests/export_lab.py says what is in it)
export:
	@python3 tests/export_lab.py $(if $(STARTER),--starter) "$(CHAPTER)" "$(DEST)"

# .build goes last: the sub-makes' build.mk writes .build/variant again.
clean:
	@$(MAKE) --no-print-directory -C tests clean
	@$(MAKE) --no-print-directory -C tests/tsan clean
	@for c in $(CHAPTERS); do $(MAKE) --no-print-directory -C $$c clean; done
	rm -rf .build

.PHONY: all lib unit deps test check-docs tour bench fuzz tsan-lost-signal export clean $(CHAPTERS)
