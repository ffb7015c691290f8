# Two commands matter: `make run` (the whole system, in the foreground) and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROTOS := $(shell find protos/lbaas -name '*.proto' | sort)

.PHONY: run test test-containers conformance bench proto proto-check lint deps system-deps clean

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

deps: $(STAMP)

# haproxy and nginx are the appliance software the local amphorae run; install them when missing.
# nginx comes as Debian's nginx-light plus libnginx-mod-stream (the stream module is dynamic); a
# stale package index is refreshed only when that install fails.
system-deps:
	@if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; \
	  else echo "haproxy is missing: install it (apt-get install haproxy) or run as root" >&2; exit 1; fi; \
	fi
	@if ! { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } \
	    || [ ! -f /usr/lib/nginx/modules/ngx_stream_module.so ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    pkgs="nginx-light libnginx-mod-stream"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs >/dev/null 2>&1 \
	    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs >/dev/null; }; \
	  else echo "nginx is missing: install it (apt-get install nginx-light libnginx-mod-stream) or run as root" >&2; exit 1; fi; \
	fi
	@# PING health monitors: haproxy's external check runs ping (iputils-ping).
	@if ! command -v ping >/dev/null 2>&1 && [ ! -x /usr/bin/ping ] && [ ! -x /bin/ping ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iputils-ping >/dev/null 2>&1 \
	    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iputils-ping >/dev/null; }; \
	  else echo "ping is missing: install it (apt-get install iputils-ping) or run as root" >&2; exit 1; fi; \
	fi
	@# ACTIVE_STANDBY pairs (netns compute driver, root only): the agent runs keepalived beside haproxy.
	@if ! command -v keepalived >/dev/null 2>&1 && [ ! -x /usr/sbin/keepalived ] && [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq keepalived >/dev/null 2>&1 \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq keepalived >/dev/null; }; \
	fi
	@# Drain (an amphora leaving service): the agent drops new connections with nftables.
	@if ! command -v nft >/dev/null 2>&1 && [ ! -x /usr/sbin/nft ] && [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables >/dev/null 2>&1 \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables >/dev/null; }; \
	fi
	@# The users haproxy's and nginx's workers switch to (amphora_agent/privileges.py): Debian's
	@# haproxy package creates haproxy:haproxy, base-passwd has www-data:www-data; created here
	@# only when missing (haproxy built from source). An agent without them keeps root workers.
	@for name in haproxy www-data; do \
	  if ! getent passwd $$name >/dev/null || ! getent group $$name >/dev/null; then \
	    if [ "$$(id -u)" = 0 ]; then \
	      getent group $$name >/dev/null || groupadd --system $$name; \
	      getent passwd $$name >/dev/null || useradd --system --gid $$name --no-create-home \
	        --home-dir /nonexistent --shell /usr/sbin/nologin $$name; \
	    else echo "user or group $$name is missing (run make system-deps as root):" \
	      "the agent cannot run its $$name workers unprivileged" >&2; fi; \
	  fi; \
	done

proto: $(STAMP)
	$(PY) -m grpc_tools.protoc -Iprotos --python_out=protos --pyi_out=protos --grpc_python_out=protos $(PROTOS)
	@find protos/lbaas -type d -exec touch {}/__init__.py \;

# CI fails when the checked-in generated code is stale.
proto-check: $(STAMP)
	@tmp=$$(mktemp -d) && \
	$(PY) -m grpc_tools.protoc -Iprotos --python_out=$$tmp --pyi_out=$$tmp --grpc_python_out=$$tmp $(PROTOS) && \
	for f in $$(cd $$tmp && find lbaas -name '*.py*'); do \
	  cmp -s $$tmp/$$f protos/$$f || { echo "stale generated code: protos/$$f (run make proto)"; rm -rf $$tmp; exit 1; }; \
	done; rm -rf $$tmp; echo "generated code is current"

run: $(STAMP)
	$(PY) -m deploy.local.stack

# Octavia's own API suite (octavia-tempest-plugin tests/api/v2) against the system in keystone mode
# with a throw-away Keystone: deploy/conformance/run.py, docs/conformance.md.
conformance: $(STAMP)
	$(PY) deploy/conformance/run.py

# tests/containers builds images and runs the compose stack (docker): `make test-containers`.
# The 25 slowest tests are listed at the end: the suite is to stay near 15 minutes.
test: $(STAMP) proto-check
	$(PY) -m pytest -q --durations=25 tests --ignore=tests/containers

# deploy/docker for real: base image from Debian packages, images, compose stack, traffic through
# a VIP, replicas killed. Root; installs docker.io, docker-compose and debootstrap when absent and
# starts dockerd when none runs (stopping it again at the end). Prints build and start-up times.
test-containers: $(STAMP)
	$(PY) -m pytest -q tests/containers

bench: $(STAMP)
	$(PY) -m bench.lifecycle
	$(PY) -m bench.members
	$(PY) -m bench.api
	$(PY) -m bench.render
	$(PY) -m bench.failover
	$(PY) -m bench.heartbeats
	$(PY) -m bench.pairs
	$(PY) -m bench.observability

lint: $(STAMP)
	$(VENV)/bin/ruff check services amphora_agent deploy tests bench
	$(VENV)/bin/ruff format --check services amphora_agent deploy tests bench

clean:
	rm -rf .run
