# The build entry point.
#
#   make run    build everything and start the demo on 127.0.0.1: memcached,
#               the auth server (examples/auth-server), nginx with the module
#               in front of a demo application; print a walkthrough
#   make stop   stop the demo
#   make test   build everything and run all the tests (Swift + nginx, the
#               packaged 1.22 and 1.26 from source + the Debian package,
#               which it installs and purges + 25 s of each fuzzer)
#   make bench  the benchmarks: the core (bench-core) and nginx under load
#               (bench-nginx); they print figures, nothing asserts timings
#   make growth a million mixed requests through one nginx worker; fails if
#               its memory grows after warm-up (bench/growth)
#   make deb    the Debian package libnginx-mod-http-auth-jwt, in build/deb
#   make fuzz   the libFuzzer targets over ajwt.h, FUZZ_SECONDS each
#               (fuzz-smoke: a short run for CI; see Fuzz/README.md)
#   make test-asan      the nginx suite on a module built with ASan + UBSan
#   make test-valgrind  the nginx suite with nginx under valgrind memcheck
#   make test-nginx-1.26 the nginx suite against nginx 1.26 built from
#               source in build/nginx-1.26 (part of make test)
#
# The Swift core is built by SwiftPM; the nginx module by nginx's own build
# system, configured from Debian's nginx-dev with the packaged nginx's exact
# flags, so that Debian's nginx accepts it with load_module.

SHELL := /bin/bash
.DEFAULT_GOAL := all

SWIFT       ?= swift
NGINX       ?= /usr/sbin/nginx
NGINX_SRC   ?= /usr/share/nginx/src
DEMO_PORT   ?= 8080

BUILD       := $(CURDIR)/build
SWIFT_OUT   := $(CURDIR)/.build/release
MODULE      := $(BUILD)/nginx/ngx_http_auth_jwt_module.so
JWTCTL      := $(SWIFT_OUT)/jwtctl
DEMO        := $(BUILD)/demo

# The reference auth server: a package of its own (examples/auth-server), so
# the module's build never compiles the HTTP stack. One debug build serves the
# demo, its tests and the end-to-end test.
AUTH_SERVER_PKG := $(CURDIR)/examples/auth-server
AUTH_SERVER     := $(AUTH_SERVER_PKG)/.build/debug/auth-server

# Debian packages the build and the tests need.
DEB_PACKAGES := nginx nginx-dev libmemcached-dev memcached python3-prometheus-client \
                libcrypt-jwt-perl libcache-memcached-fast-perl openssl curl \
                build-essential debhelper dpkg-dev valgrind libcrypt-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The static Swift runtime, from the toolchain that runs `swift`.
SWIFT_USR    := $(shell dirname "$$(dirname "$$(readlink -f "$$(command -v $(SWIFT))")")")
SWIFT_STATIC := $(SWIFT_USR)/lib/swift_static/linux
SWIFT_RTLIBS := FoundationEssentials _FoundationCShims _FoundationCollections \
                swift_StringProcessing swift_RegexParser swiftSynchronization \
                swiftDispatch swiftGlibc swift_Concurrency swiftCore dispatch \
                BlocksRuntime

# The module's link line for the Swift archive in $(1).
# swiftrt.o registers the image's Swift metadata: without it the first
# Swift call crashes. The version script keeps the .so exporting only the
# module (nginx dlopens it RTLD_GLOBAL); nodelete because the Swift runtime
# cannot be unloaded on reload.
ngx_auth_jwt_libs = -Wl,--version-script=$(CURDIR)/nginx-module/ngx_http_auth_jwt_module.map \
    -Wl,--exclude-libs,ALL -Wl,-z,nodelete \
    $(SWIFT_STATIC)/$(shell uname -m)/swiftrt.o \
    -Wl,--start-group $(1)/libAuthJWT.a \
    $(foreach l,$(SWIFT_RTLIBS),$(SWIFT_STATIC)/lib$(l).a) -Wl,--end-group \
    -lstdc++ -lm -ldl -lpthread -lutil

# Debian builds its nginx modules with these flags.
CC_OPT := $(shell dpkg-buildflags --get CFLAGS 2>/dev/null) -fPIC \
          $(shell dpkg-buildflags --get CPPFLAGS 2>/dev/null)
LD_OPT := $(shell dpkg-buildflags --get LDFLAGS 2>/dev/null) -fPIC

# Configures nginx's build of the module into $(1), with the Swift archive
# in $(2), and extra configure arguments $(3), with the packaged nginx's
# flags so that the packaged nginx accepts the module.
configure_module = mkdir -p $(1) && \
    source $(NGINX_SRC)/conf_flags && cd $(NGINX_SRC) && \
    NGX_AUTH_JWT_LIBS="$(call ngx_auth_jwt_libs,$(2))" ./configure \
        "$${NGX_CONF_FLAGS[@]}" $(3) \
        --add-dynamic-module=$(CURDIR)/nginx-module \
        --builddir=$(1)/nginx >$(1)/configure.log \
    || { tail -20 $(1)/configure.log; exit 1; }

.PHONY: all deps swift module test test-swift test-nginx run stop clean \
        bench bench-core bench-nginx growth deb test-deb fuzz fuzz-smoke \
        test-asan test-valgrind auth-server test-auth-server

all: module

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	        | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:" $$missing; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	        --no-install-recommends $$missing >/dev/null; \
	fi

swift: deps
	$(SWIFT) build -c release

$(BUILD)/nginx/Makefile: nginx-module/config Makefile | deps
	$(call configure_module,$(BUILD),$(SWIFT_OUT),\
	    --with-cc-opt="$(CC_OPT)" --with-ld-opt="$(LD_OPT)")

# nginx's Makefile does not know the Swift archive: relink when it changes.
module: swift $(BUILD)/nginx/Makefile
	@[ $(MODULE) -nt $(SWIFT_OUT)/libAuthJWT.a ] || rm -f $(MODULE)
	$(MAKE) -s -f $(BUILD)/nginx/Makefile -C $(NGINX_SRC) modules
	@echo "built $(MODULE)"

test: test-swift test-auth-server test-nginx test-deb fuzz-smoke

test-swift: deps
	$(SWIFT) test

test-nginx: module auth-server
	TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_MODULE=$(MODULE) JWTCTL=$(JWTCTL) \
	    TEST_AUTH_SERVER=$(AUTH_SERVER) prove -r nginx-module/t

auth-server: deps
	$(SWIFT) build --package-path $(AUTH_SERVER_PKG) --product auth-server

test-auth-server: deps
	$(SWIFT) test --package-path $(AUTH_SERVER_PKG)

bench: bench-core bench-nginx

# A nested package (Benchmarks/), so the module's build never pulls in the
# benchmark harness.
bench-core: deps
	$(SWIFT) package --package-path Benchmarks benchmark --no-progress

bench-nginx: module
	bench/nginx-bench

# A leak check, not a benchmark: about 3 minutes on 2 cores.
growth: module
	bench/growth

# The Debian package (debian/), built by dpkg-buildpackage in the tree with
# AUTH_JWT_DEB_DIR set, so that debian/rules builds nginx's part in
# build/deb/nginx and writes the packages to build/deb instead of the parent
# directory; the Swift build is the tree's own (.build), not a second one.
DEB_DIR  := $(BUILD)/deb
DEB_NAME  = libnginx-mod-http-auth-jwt_$(shell dpkg-parsechangelog \
            -l debian/changelog -S Version)_$(shell dpkg --print-architecture)
DEB_FILE  = $(DEB_DIR)/$(DEB_NAME).deb

deb: deps
	mkdir -p $(DEB_DIR)
	rm -f $(DEB_DIR)/*.deb $(DEB_DIR)/*.buildinfo $(DEB_DIR)/*.changes
	AUTH_JWT_DEB_DIR=build/deb dpkg-buildpackage -b --no-sign --no-pre-clean \
	    --buildinfo-option=-ubuild/deb --changes-option=-ubuild/deb \
	    --buildinfo-file=$(DEB_DIR)/$(DEB_NAME).buildinfo \
	    --changes-file=$(DEB_DIR)/$(DEB_NAME).changes
	@ls -l $(DEB_DIR)/*.deb

# Installs the package, runs nginx with the snippet it enables, purges it.
test-deb: deb
	$(SUDO) env AUTH_JWT_DEB=$(DEB_FILE) prove debian/tests/package.t

# A nested package (Fuzz/) built with -sanitize=fuzzer,address, so the
# module's build never sees the fuzzing flags. fuzz-smoke fails on a crash.
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 25

fuzz: deps
	Fuzz/run fuzz $(FUZZ_SECONDS)

fuzz-smoke: deps
	Fuzz/run fuzz $(FUZZ_SMOKE_SECONDS)

# Memory checks of the nginx suite (nginx-module/t/checked/run): each
# prints the tests run, the checker's reports and the bytes leaked, and
# fails on any report. test-asan builds its own module: the C file with
# the toolchain's clang and the Swift core with SwiftPM, both with
# AddressSanitizer (and UBSan for the C code), into build/asan and
# .build-asan; Debian's nginx is not instrumented, so the runtime is
# preloaded into it. test-valgrind runs the release module.
ASAN_BUILD  := $(BUILD)/asan
ASAN_SWIFT  := $(CURDIR)/.build-asan/release
ASAN_MODULE := $(ASAN_BUILD)/nginx/ngx_http_auth_jwt_module.so
ASAN_CC     := $(SWIFT_USR)/bin/clang
ASAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
CHECKED     := $(CURDIR)/nginx-module/t/checked/run

$(ASAN_BUILD)/nginx/Makefile: nginx-module/config Makefile | deps
	$(call configure_module,$(ASAN_BUILD),$(ASAN_SWIFT),\
	    --with-cc=$(ASAN_CC) \
	    --with-cc-opt="-g -O1 -fPIC $(ASAN_FLAGS)" \
	    --with-ld-opt="-fPIC -fuse-ld=bfd $(ASAN_FLAGS)")

test-asan: swift $(ASAN_BUILD)/nginx/Makefile
	$(SWIFT) build -c release --scratch-path .build-asan \
	    --sanitize address -Xcc -fsanitize=undefined --product AuthJWT
	@[ $(ASAN_MODULE) -nt $(ASAN_SWIFT)/libAuthJWT.a ] || rm -f $(ASAN_MODULE)
	$(MAKE) -s -f $(ASAN_BUILD)/nginx/Makefile -C $(NGINX_SRC) modules
	$(CHECKED) asan $(NGINX) $(ASAN_MODULE) $(JWTCTL) $(ASAN_BUILD) \
	    "$$($(ASAN_CC) -print-file-name=libclang_rt.asan-$$(uname -m).so)"

# valgrind 3.19 cannot read the toolchain's DWARF 5: it gets the module
# without debug information (symbols are kept).
test-valgrind: module
	mkdir -p $(BUILD)/valgrind
	objcopy --strip-debug $(MODULE) $(BUILD)/valgrind/$(notdir $(MODULE))
	$(CHECKED) valgrind $(NGINX) $(BUILD)/valgrind/$(notdir $(MODULE)) \
	    $(JWTCTL) $(BUILD)/valgrind

run: module auth-server
	@$(CURDIR)/conf/demo.sh start "$(NGINX)" "$(MODULE)" "$(JWTCTL)" \
	    "$(AUTH_SERVER)" "$(DEMO)" "$(DEMO_PORT)"

stop:
	@$(CURDIR)/conf/demo.sh stop "$(NGINX)" "$(MODULE)" "$(JWTCTL)" \
	    "$(AUTH_SERVER)" "$(DEMO)" "$(DEMO_PORT)"

clean:
	rm -rf $(BUILD) .build .build-asan $(AUTH_SERVER_PKG)/.build Fuzz/.build
	rm -rf debian/.debhelper debian/debhelper-build-stamp debian/files \
	    debian/*.substvars debian/*.debhelper debian/*.debhelper.log \
	    debian/libnginx-mod-http-auth-jwt

###########################################################################
# The nginx suite against a newer nginx, built from source.
# Debian 12's packaged nginx stays the main target (make module, the .deb,
# make run); this checks the module against Debian 13's nginx too.
#
#   make test-nginx-1.26   downloads (once) trixie's nginx_1.26.3.orig.tar.gz,
#                          builds nginx and the module in build/nginx-1.26
#                          and runs the whole nginx suite (prove -r
#                          nginx-module/t) against them
#
# Another release: make test-nginx-1.28 UPSTREAM_NGINX=1.28.0
# UPSTREAM_SUITE=<a suite that has it> (the target is named after
# UPSTREAM_NGINX's series).
#
# The tarball comes through apt-get with a configuration of its own
# (build/upstream-nginx/apt: a deb-src entry, package lists and cache, on
# top of apt.conf.d, which may hold a proxy): the system's sources and
# package lists are neither read nor written; its keyring checks the
# Sources index's signature, and the tarball is checked against the
# index's SHA-256. The archive serves the orig tarball but not the
# security revision's .dsc (404), hence --tar-only. The download is kept
# across runs (make clean removes it).
#
# nginx is configured as the Debian tree is: a conf_flags file in nginx-dev's
# form, then configure_module above with NGINX_SRC pointing at the tree.
# nginx-dev's build dependencies (libpcre2-dev, libssl-dev, zlib1g-dev) are
# nginx's.

UPSTREAM_NGINX ?= 1.26.3
UPSTREAM_SUITE ?= trixie
UPSTREAM_MIRROR ?= http://deb.debian.org/debian
UPSTREAM_KEYRING ?= /usr/share/keyrings/debian-archive-keyring.gpg

UP_SERIES  := $(basename $(UPSTREAM_NGINX))
UP_DIR     := $(BUILD)/nginx-$(UP_SERIES)
UP_SRC     := $(UP_DIR)/nginx-$(UPSTREAM_NGINX)
UP_NGINX   := $(UP_DIR)/nginx/nginx
UP_MODULE  := $(UP_DIR)/nginx/ngx_http_auth_jwt_module.so
UP_CACHE   := $(BUILD)/upstream-nginx
UP_APT     := $(UP_CACHE)/apt
UP_TARBALL := $(UP_CACHE)/nginx_$(UPSTREAM_NGINX).orig.tar.gz
UP_FLAGS   := --prefix=$(UP_DIR) --with-compat --with-threads --with-debug \
              --with-http_ssl_module --with-http_auth_request_module \
              --with-pcre

.PHONY: nginx-$(UP_SERIES) test-nginx-$(UP_SERIES)

# The update hooks of the system's apt configuration are for its own lists.
# Run as root, apt downloads as _apt, into a directory _apt can write.
$(UP_TARBALL): | deps
	rm -rf $(UP_APT) $(UP_CACHE)/tmp
	mkdir -p $(UP_APT)/lists/partial $(UP_APT)/cache $(UP_CACHE)/tmp
	[ "$$(id -u)" != 0 ] || chown _apt $(UP_CACHE)/tmp
	echo "deb-src [signed-by=$(UPSTREAM_KEYRING)] $(UPSTREAM_MIRROR)" \
	    "$(UPSTREAM_SUITE) main" >$(UP_APT)/sources.list
	printf '%s\n' '#clear APT::Update::Pre-Invoke;' \
	    '#clear APT::Update::Post-Invoke;' \
	    '#clear APT::Update::Post-Invoke-Success;' \
	    'Dir::Etc::SourceList "$(UP_APT)/sources.list";' \
	    'Dir::Etc::SourceParts "/dev/null";' \
	    'Dir::State::Lists "$(UP_APT)/lists";' \
	    'Dir::Cache "$(UP_APT)/cache";' >$(UP_APT)/apt.conf
	apt-get -c $(UP_APT)/apt.conf -qq update
	set -- $$(apt-cache -c $(UP_APT)/apt.conf showsrc nginx | awk \
	    -v f=$(notdir $(UP_TARBALL)) '/^Version:/ { v = $$2 } \
	    /^[^ ]/ { s = ($$1 == "Checksums-Sha256:") } \
	    s && $$3 == f { print v, $$1; exit }'); \
	[ $$# = 2 ] || { echo "$(UPSTREAM_SUITE) has no $(notdir $(UP_TARBALL))"; \
	    exit 1; }; \
	cd $(UP_CACHE)/tmp && \
	apt-get -c $(UP_APT)/apt.conf -qq source --download-only --tar-only \
	    nginx=$$1 && \
	echo "$$2  $(notdir $(UP_TARBALL))" | sha256sum --check --strict
	mv $(UP_CACHE)/tmp/$(notdir $(UP_TARBALL)) $@
	rm -rf $(UP_CACHE)/tmp

$(UP_SRC)/conf_flags: $(UP_TARBALL) Makefile
	rm -rf $(UP_SRC)
	mkdir -p $(UP_DIR)
	tar -xzf $(UP_TARBALL) -C $(UP_DIR)
	echo 'NGX_CONF_FLAGS=( $(UP_FLAGS) )' >$@

$(UP_DIR)/nginx/Makefile: NGINX_SRC := $(UP_SRC)
$(UP_DIR)/nginx/Makefile: $(UP_SRC)/conf_flags nginx-module/config | deps
	$(call configure_module,$(UP_DIR),$(SWIFT_OUT),\
	    --with-cc-opt="$(CC_OPT)" --with-ld-opt="$(LD_OPT)")

nginx-$(UP_SERIES): swift $(UP_DIR)/nginx/Makefile
	@[ $(UP_MODULE) -nt $(SWIFT_OUT)/libAuthJWT.a ] || rm -f $(UP_MODULE)
	$(MAKE) -s -f $(UP_DIR)/nginx/Makefile -C $(UP_SRC) binary modules
	@$(UP_NGINX) -v
	@echo "built $(UP_MODULE)"

# Part of the README's test command, hence of CI: about 2 min 40 s from a
# cold build/ on 2 cores (download 3 s, nginx and the module 1 min, the
# suite 1.5 min), 1.5 min warm.
test: test-nginx-$(UP_SERIES)

test-nginx-$(UP_SERIES): nginx-$(UP_SERIES) auth-server
	TEST_NGINX_BINARY=$(UP_NGINX) TEST_NGINX_MODULE=$(UP_MODULE) \
	    JWTCTL=$(JWTCTL) TEST_AUTH_SERVER=$(AUTH_SERVER) prove -r nginx-module/t
