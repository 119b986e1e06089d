# The build entry point.
#
#   make run    build everything and start the demo on 127.0.0.1: memcached,
#               the auth server (examples/auth-server), nginx with the module
#               in front of a demo application; print a walkthrough
#   make stop   stop the demo
#   make test   build everything and run all the tests (Swift + nginx)
#   make bench  the benchmarks: the core (bench-core) and nginx under load
#               (bench-nginx); they print figures, nothing asserts timings
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
DEB_PACKAGES := nginx nginx-dev libmemcached-dev memcached \
                libcrypt-jwt-perl libcache-memcached-fast-perl openssl curl \
                libcrypt-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The static Swift runtime, from the toolchain that runs `swift`.
SWIFT_USR    := $(shell dirname "$$(dirname "$$(readlink -f "$$(command -v $(SWIFT))")")")
SWIFT_STATIC := $(SWIFT_USR)/lib/swift_static/linux
SWIFT_RTLIBS := FoundationEssentials _FoundationCShims _FoundationCollections \
                swift_StringProcessing swift_RegexParser swiftSynchronization \
                swiftDispatch swiftGlibc swift_Concurrency swiftCore dispatch \
                BlocksRuntime

# swiftrt.o registers the image's Swift metadata: without it the first
# Swift call crashes. The version script keeps the .so exporting only the
# module (nginx dlopens it RTLD_GLOBAL); nodelete because the Swift runtime
# cannot be unloaded on reload.
NGX_AUTH_JWT_LIBS := -Wl,--version-script=$(CURDIR)/nginx-module/ngx_http_auth_jwt_module.map \
    -Wl,--exclude-libs,ALL -Wl,-z,nodelete \
    $(SWIFT_STATIC)/$(shell uname -m)/swiftrt.o \
    -Wl,--start-group $(SWIFT_OUT)/libAuthJWT.a \
    $(foreach l,$(SWIFT_RTLIBS),$(SWIFT_STATIC)/lib$(l).a) -Wl,--end-group \
    -lmemcached -lmemcachedutil -lstdc++ -lm -ldl -lpthread -lutil

# Debian builds its nginx modules with these flags.
CC_OPT := $(shell dpkg-buildflags --get CFLAGS 2>/dev/null) -fPIC \
          $(shell dpkg-buildflags --get CPPFLAGS 2>/dev/null)
LD_OPT := $(shell dpkg-buildflags --get LDFLAGS 2>/dev/null) -fPIC

.PHONY: all deps swift module test test-swift test-nginx run stop clean \
        bench bench-core bench-nginx auth-server test-auth-server

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
	mkdir -p $(BUILD)
	source $(NGINX_SRC)/conf_flags && cd $(NGINX_SRC) && \
	NGX_AUTH_JWT_LIBS="$(NGX_AUTH_JWT_LIBS)" ./configure \
	    "$${NGX_CONF_FLAGS[@]}" \
	    --with-cc-opt="$(CC_OPT)" --with-ld-opt="$(LD_OPT)" \
	    --add-dynamic-module=$(CURDIR)/nginx-module \
	    --builddir=$(BUILD)/nginx >$(BUILD)/configure.log \
	|| { tail -20 $(BUILD)/configure.log; exit 1; }

# nginx's Makefile does not know the Swift archive: relink when it changes.
module: swift $(BUILD)/nginx/Makefile
	@[ $(MODULE) -nt $(SWIFT_OUT)/libAuthJWT.a ] || rm -f $(MODULE)
	$(MAKE) -s -f $(BUILD)/nginx/Makefile -C $(NGINX_SRC) modules
	@echo "built $(MODULE)"

test: test-swift test-auth-server test-nginx

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

run: module auth-server
	@$(CURDIR)/conf/demo.sh start "$(NGINX)" "$(MODULE)" "$(JWTCTL)" \
	    "$(AUTH_SERVER)" "$(DEMO)" "$(DEMO_PORT)"

stop:
	@$(CURDIR)/conf/demo.sh stop "$(NGINX)" "$(MODULE)" "$(JWTCTL)" \
	    "$(AUTH_SERVER)" "$(DEMO)" "$(DEMO_PORT)"

clean:
	rm -rf $(BUILD) .build $(AUTH_SERVER_PKG)/.build
