# common/build.mk — the one place build flags live.
#
# Included by every chapter's Makefile (which sets PROGRAMS first) and by
# tests/Makefile. Objects go to .build/VARIANT/, binaries stay in the chapter
# folder (./server, ./client) where the README's commands expect them.
#
#   make                          optimised build (the default)
#   make SANITIZE=address,undefined   the same sources with sanitizers
#   make SANITIZE=thread              ThreadSanitizer
#   make PORTABLE=1                   the POSIX fallbacks only (common/portable.hpp)
#   make CXX="clang++ -stdlib=libc++" clang with libc++, macOS's standard library
#
# Each combination builds in its own .build/VARIANT/ folder, and switching
# relinks every binary (see VARIANT_STAMP below).

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
comma := ,

CXX ?= g++
# Quiet by default ("CXX server.cpp"); `make V=1` shows the whole commands.
Q := $(if $(V),,@)
CXXFLAGS := -std=c++20 -O2 -g -Wall -Wextra -Wpedantic -Wshadow -Werror -MMD -MP -pthread
LDFLAGS := -pthread
ifneq ($(strip $(SANITIZE)),)
  CXXFLAGS += -O1 -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=$(SANITIZE)
  # UBSan's vptr check tests memory by writing it into a new pipe(); out of
  # descriptors, pipe() fails and a valid object is reported as having an
  # "invalid vptr". The tests run servers out of descriptors on purpose
  # (test_out_of_descriptors_...), so that one check is left out.
  ifneq ($(findstring undefined,$(SANITIZE)),)
    CXXFLAGS += -fno-sanitize=vptr
    LDFLAGS += -fno-sanitize=vptr
  endif
endif
# The compiler is part of the variant unless it is the default g++:
# "clang++ -stdlib=libc++" builds in .build/release-clang++-stdlib-libc++.
space := $(subst ,, )
CXX_TAG := $(if $(filter g++,$(CXX)),,-$(subst =,-,$(subst $(space),,$(CXX))))
VARIANT := $(if $(strip $(SANITIZE)),$(subst $(comma),-,$(strip $(SANITIZE))),release)$(if $(PORTABLE),-portable)$(CXX_TAG)
BUILD := $(ROOT)/.build/$(VARIANT)

# Platform features, found by compiling a probe (common/probes/NAME.cpp),
# not from a list of operating systems: each probe that compiles defines
# NET_HAVE_NAME (common/portable.hpp uses them). Probed once per variant
# and kept in $(BUILD)/features, again when a probe is newer. PORTABLE=1
# probes nothing, so the POSIX fallbacks are the ones built and tested, on
# Linux too.
FEATURES_FILE := $(BUILD)/features
$(shell mkdir -p $(BUILD) && [ -f $(FEATURES_FILE) ] && \
  [ -z "$$(find $(ROOT)/common/probes -newer $(FEATURES_FILE))" ] || { \
  for probe in $(if $(PORTABLE),,$(ROOT)/common/probes/*.cpp); do \
    $(CXX) -std=c++20 -fsyntax-only $$probe 2>/dev/null && \
      basename $$probe .cpp | tr a-z A-Z | sed 's/^/-DNET_HAVE_/'; \
  done > $(FEATURES_FILE).tmp; mv $(FEATURES_FILE).tmp $(FEATURES_FILE); })
CXXFLAGS += $(shell cat $(FEATURES_FILE)) $(LAB_CXXFLAGS) $(if $(PORTABLE),-DNET_PORTABLE)

# One file holding the variant last linked; rewritten only when it changes,
# so binaries depending on it relink exactly when SANITIZE changes.
VARIANT_STAMP := $(ROOT)/.build/variant
$(shell mkdir -p $(ROOT)/.build && \
  [ "$$(cat $(VARIANT_STAMP) 2>/dev/null)" = "$(VARIANT)" ] || echo "$(VARIANT)" > $(VARIANT_STAMP))

# common/ as a static library.
LIBNET := $(BUILD)/libnet.a
COMMON_OBJ := $(patsubst $(ROOT)/common/%.cpp,$(BUILD)/common/%.o,$(wildcard $(ROOT)/common/*.cpp))

# `make -f common/build.mk lib`: the library alone, quiet when up to date.
lib: $(LIBNET)
	@:

$(LIBNET): $(COMMON_OBJ)
	@$(if $(Q),echo "  AR      $(notdir $@)")
	$(Q)$(AR) rcs $@ $^

# Every object depends on the features file: a new probe result recompiles.
$(BUILD)/common/%.o: $(ROOT)/common/%.cpp $(FEATURES_FILE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CXX     common/$(notdir $<)")
	$(Q)$(CXX) $(CXXFLAGS) -c $< -o $@

-include $(COMMON_OBJ:.o=.d)

# A chapter: each name in PROGRAMS is built from NAME.cpp in the folder.
ifdef PROGRAMS
.DEFAULT_GOAL := all
CHAPTER := $(notdir $(CURDIR))
CHAPTER_OBJ := $(PROGRAMS:%=$(BUILD)/$(CHAPTER)/%.o)

# The empty recipe (":") keeps make from saying "Nothing to be done for
# 'all'" when everything is built: a built chapter's `make` prints nothing.
all: $(PROGRAMS)
	@:

$(PROGRAMS): %: $(BUILD)/$(CHAPTER)/%.o $(LIBNET) $(VARIANT_STAMP)
	@$(if $(Q),echo "  LINK    $(CHAPTER)/$@")
	$(Q)$(CXX) $(LDFLAGS) $< $(LIBNET) -o $@

$(BUILD)/$(CHAPTER)/%.o: %.cpp $(FEATURES_FILE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CXX     $(CHAPTER)/$<")
	$(Q)$(CXX) $(CXXFLAGS) -I$(ROOT)/common -c $< -o $@

clean:
	rm -f $(PROGRAMS)

# `make export DEST=DIR`: this chapter as a self-contained lab folder
# (tests/export_lab.py). DEST is taken from the directory make was started
# in ($(PWD)), so `make -C 04_threading export DEST=../lab4` means what the
# shell means by ../lab4.
export:
	@python3 $(ROOT)/tests/export_lab.py $(if $(STARTER),--starter) $(CHAPTER) "$(if $(filter /%,$(DEST)),$(DEST),$(or $(PWD),$(CURDIR))/$(DEST))"

-include $(CHAPTER_OBJ:.o=.d)
.PHONY: all clean export
endif
