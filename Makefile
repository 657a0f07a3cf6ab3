# kumo: `make` builds everything into build/; `make SAN=1` into build-san/
# with AddressSanitizer and UndefinedBehaviorSanitizer; `make fuzz` builds
# the libFuzzer harnesses (tests/fuzz/) with clang into build-fuzz/ and runs
# each for FUZZ_SECONDS. `make test` runs the
# unit tests and the system tests (RabbitMQ must be up: tools/test-all
# starts it). Sources are found by directory; a directory's main.c is its
# program, the rest its library.

SAN ?= 0
FUZZ ?= 0
ifeq ($(FUZZ),1)
# The libraries carry the fuzzer's coverage hooks; each harness links
# libFuzzer's main (-fsanitize=fuzzer).
BUILD ?= build-fuzz
CC = clang
SANFLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS =
endif

PREFIX ?= /usr/local
DESTDIR ?=

CC ?= cc
PKGS = librabbitmq libmicrohttpd sqlite3 jansson inih uuid libcurl libvirt libcrypto yaml-0.1 libpcre2-8 libisofs-1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -pthread -I. $(PKG_CFLAGS) $(SANFLAGS) -MMD -MP
LDFLAGS += -pthread $(SANFLAGS)

LIB_RMQ = -lrabbitmq
LIB_MHD = -lmicrohttpd
LIB_SQL = -lsqlite3
LIB_JSON = -ljansson
LIB_INI = -linih
LIB_UUID = -luuid
LIB_CURL = -lcurl
LIB_VIRT = -lvirt
LIB_CRYPTO = -lcrypto
LIB_XCRYPT = -lcrypt
LIB_YAML = -lyaml
LIB_PCRE2 = -lpcre2-8
# config drives (compute/configdrive.c): ISO 9660 written in-process
LIB_ISOFS = -lisofs
LIB_MNL = -lmnl
LIB_NFT = -lnftables

COMMON_SRC  := $(wildcard common/*.c common/rpc/*.c)
DB_SRC      := $(wildcard db/*.c)
API_SRC     := $(filter-out api/main.c,$(wildcard api/*.c api/filters/*.c api/identity/*.c api/authtoken/*.c))
SCHED_SRC   := $(filter-out scheduler/main.c,$(wildcard scheduler/*.c scheduler/filters/*.c scheduler/weighers/*.c))
COMPUTE_SRC := $(filter-out compute/main.c,$(wildcard compute/*.c compute/virt/*.c))
# kumo-netd (compute/net/): its own library, never in kumo-compute's; the
# compute's client of it is compute/netclient.c.
NETD_SRC    := $(filter-out compute/net/main.c,$(wildcard compute/net/*.c))
CLI_SRC     := $(filter-out cli/main.c,$(wildcard cli/*.c))
MANAGE_SRC  := $(wildcard tools/manage/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCOMMON  := $(BUILD)/libkumo_common.a
LIBDB      := $(BUILD)/libkumo_db.a
LIBAPI     := $(BUILD)/libkumo_api.a
LIBSCHED   := $(BUILD)/libkumo_sched.a
LIBCOMPUTE := $(BUILD)/libkumo_compute.a
LIBNETD    := $(BUILD)/libkumo_netd.a
LIBCLI     := $(BUILD)/libkumo_cli.a

BASE_LIBS = $(LIB_RMQ) $(LIB_JSON) $(LIB_INI) $(LIB_UUID)

PROGS = $(BUILD)/kumo-api $(BUILD)/kumo-scheduler $(BUILD)/kumo-compute \
        $(BUILD)/kumo-manage $(BUILD)/kumo $(BUILD)/rpc-echo $(BUILD)/rpc-bench

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all clean test unit system e2e install
# all: is the default goal; its prerequisites are listed at the end, once
# every PROGS += has been read.
all:

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBDB): $(call obj,$(DB_SRC))
$(LIBAPI): $(call obj,$(API_SRC))
$(LIBSCHED): $(call obj,$(SCHED_SRC))
$(LIBCOMPUTE): $(call obj,$(COMPUTE_SRC))
$(LIBNETD): $(call obj,$(NETD_SRC))
$(LIBCLI): $(call obj,$(CLI_SRC))
$(BUILD)/lib%.a:
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/kumo-api: $(call obj,api/main.c) $(LIBAPI) $(LIBDB) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_MHD) $(LIB_PCRE2) $(LIB_SQL) $(LIB_YAML) $(LIB_CRYPTO) $(LIB_XCRYPT) $(BASE_LIBS)
$(BUILD)/kumo-scheduler: $(call obj,scheduler/main.c) $(LIBSCHED) $(LIBDB) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_SQL) $(BASE_LIBS)
# kumo-compute never links db/ (DESIGN.md: computes report through RPC),
# nor libvirt: the libvirt driver loads it (compute/virt/libvirt_load.c).
# libcurl is loaded at run time too (common/http.c), by kumo-api only when
# it checks tokens with an external Keystone.
$(BUILD)/kumo-compute: $(call obj,compute/main.c) $(LIBCOMPUTE) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_ISOFS) $(LIB_CRYPTO) $(BASE_LIBS)
# kumo-netd: the compute host's privileged network helper (compute/net/):
# rtnetlink through libmnl, nftables through libnftables; no RPC, no db/.
PROGS += $(BUILD)/kumo-netd
$(BUILD)/kumo-netd: $(call obj,compute/net/main.c) $(LIBNETD) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_MNL) $(LIB_NFT) $(BASE_LIBS)
# kumo-manage instance list --stuck shows the watchdog's own rules
# (scheduler/verdict.c, the one object it takes from the archive).
$(BUILD)/kumo-manage: $(call obj,$(MANAGE_SRC)) $(LIBSCHED) $(LIBDB) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_SQL) $(LIB_CRYPTO) $(LIB_XCRYPT) $(BASE_LIBS)
$(BUILD)/kumo: $(call obj,cli/main.c) $(LIBCLI) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_CURL) $(LIB_YAML) $(LIB_CRYPTO) $(BASE_LIBS)
$(BUILD)/rpc-echo: $(call obj,tools/rpc-echo.c) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(BASE_LIBS)
$(BUILD)/rpc-bench: $(call obj,tools/bench/rpc-bench.c) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(BASE_LIBS)
PROGS += $(BUILD)/rpc-call
$(BUILD)/rpc-call: $(call obj,tools/rpc-call.c) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(BASE_LIBS)

# Drives the virt driver by hand and from tests/e2e (no broker, no DB).
PROGS += $(BUILD)/virt-drive
$(BUILD)/virt-drive: $(call obj,tools/virt-drive.c) $(LIBCOMPUTE) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_ISOFS) $(LIB_CRYPTO) $(BASE_LIBS)

# Milliseconds per config drive (compute/configdrive.c), median of N.
PROGS += $(BUILD)/configdrive-bench
$(BUILD)/configdrive-bench: $(call obj,tools/bench/configdrive-bench.c) $(LIBCOMPUTE) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_ISOFS) $(LIB_CRYPTO) $(BASE_LIBS)

# Unit tests link every library; the linker takes what each needs
# (test_libvirt_driver calls libvirt itself, beside the driver's loaded copy).
$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(LIBAPI) $(LIBSCHED) $(LIBCOMPUTE) $(LIBNETD) $(LIBCLI) $(LIBDB) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LIB_MHD) $(LIB_PCRE2) $(LIB_SQL) $(LIB_ISOFS) $(LIB_CRYPTO) $(LIB_XCRYPT) $(LIB_CURL) $(LIB_YAML) $(LIB_VIRT) $(LIB_MNL) $(LIB_NFT) $(BASE_LIBS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

system: all
	KUMO_BUILD=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q tests/system tests/interop

# Real guests under QEMU/libvirt (TCG is fine): tools/test-all runs these once.
e2e: all
	KUMO_BUILD=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q tests/e2e

test: unit system e2e

# OpenStack's conformance suite (tools/tempest) against a cloud of this build:
# tempest is every compute and image test, tempest-ci the bounded selection
# that fails when a test of tests/tempest/ci-pass.txt fails.
.PHONY: tempest tempest-ci
tempest: all
	KUMO_BUILD=$(abspath $(BUILD)) tools/tempest --full

tempest-ci: all
	KUMO_BUILD=$(abspath $(BUILD)) tools/tempest --ci

# ---- fuzzing (tests/fuzz/, README "Fuzzing") ----
# make fuzz [FUZZ_SECONDS=60]: builds with FUZZ=1 into build-fuzz/ and runs
# every harness on its seed corpus (tests/fuzz/corpus/NAME/) for that long.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60
.SECONDARY: $(call obj,$(FUZZ_SRC))

$(BUILD)/fuzz/%: $(call obj,tests/fuzz/%.c) $(LIBAPI) $(LIBCOMPUTE) $(LIBNETD) $(LIBDB) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIB_MHD) $(LIB_PCRE2) $(LIB_SQL) $(LIB_YAML) $(LIB_ISOFS) $(LIB_MNL) $(LIB_NFT) $(LIB_CRYPTO) $(LIB_XCRYPT) $(BASE_LIBS)

.PHONY: fuzz fuzz-build
ifeq ($(FUZZ),1)
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	tools/fuzz $(BUILD)/fuzz $(FUZZ_SECONDS)
else
fuzz fuzz-build:
	@$(MAKE) --no-print-directory FUZZ=1 $@
endif

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- install (etc/systemd/, tools/install-post; README "Running under systemd") ----
# make install [PREFIX=/usr/local] [DESTDIR=]: binaries into $(PREFIX)/bin, the
# units into $(SYSTEMD_UNITDIR) with /usr/local replaced by $(PREFIX), /etc/kumo/*
# only where absent (an existing file that differs gets FILE.new beside it),
# /var/lib/kumo. Without DESTDIR it then runs install-post (the kumo user, modes);
# with DESTDIR, run $(PREFIX)/sbin/kumo-install-post on the target.
SYSTEMD_UNITDIR ?= /etc/systemd/system
INSTALL_BINS = kumo-api kumo-scheduler kumo-compute kumo-netd kumo-manage kumo
INSTALL_UNITS = kumo-api.service kumo-scheduler.service kumo-compute.service kumo-netd.service kumo.target
INSTALL_CONFS = kumo.conf api-pipeline.ini

.PHONY: install-files install-user uninstall
install: install-files
	@if [ -z "$(DESTDIR)" ]; then $(MAKE) --no-print-directory install-user; \
	else echo "installed into $(DESTDIR); on the target run: $(PREFIX)/sbin/kumo-install-post"; fi

install-files: $(addprefix $(BUILD)/,$(INSTALL_BINS))
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	    $(DESTDIR)$(PREFIX)/share/doc/kumo $(DESTDIR)$(SYSTEMD_UNITDIR) \
	    $(DESTDIR)/etc/kumo $(DESTDIR)/var/lib/kumo
	install -m 0755 $(addprefix $(BUILD)/,$(INSTALL_BINS)) $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 tools/install-post $(DESTDIR)$(PREFIX)/sbin/kumo-install-post
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/kumo/README.md
	@set -e; for u in $(INSTALL_UNITS); do \
	    echo "install etc/systemd/$$u -> $(DESTDIR)$(SYSTEMD_UNITDIR)/$$u"; \
	    sed 's|/usr/local|$(PREFIX)|g' etc/systemd/$$u > $(DESTDIR)$(SYSTEMD_UNITDIR)/$$u.tmp; \
	    chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/$$u.tmp; \
	    mv $(DESTDIR)$(SYSTEMD_UNITDIR)/$$u.tmp $(DESTDIR)$(SYSTEMD_UNITDIR)/$$u; \
	done
	@set -e; for f in $(INSTALL_CONFS); do \
	    d=$(DESTDIR)/etc/kumo/$$f; \
	    if [ ! -e $$d ]; then install -m 0640 etc/kumo/$$f $$d; echo "install etc/kumo/$$f -> $$d"; \
	    elif ! cmp -s etc/kumo/$$f $$d; then install -m 0640 etc/kumo/$$f $$d.new; \
	        echo "kept $$d (changed locally); the new default is $$d.new"; fi; \
	done

install-user:
	SYSTEMD_UNITDIR=$(SYSTEMD_UNITDIR) tools/install-post

# Leaves /etc/kumo, /var/lib/kumo and the kumo user alone.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(INSTALL_BINS)) \
	    $(DESTDIR)$(PREFIX)/sbin/kumo-install-post \
	    $(addprefix $(DESTDIR)$(SYSTEMD_UNITDIR)/,$(INSTALL_UNITS))
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/kumo \
	    $(DESTDIR)$(SYSTEMD_UNITDIR)/kumo-compute.service.d/libvirt-group.conf

all: $(PROGS) $(UNIT_BINS)
