# salonbook — the two commands a newcomer needs are `make run` and `make test`.
# Both do their own set-up: with no reachable DATABASE_URL, scripts/db.sh starts a
# private PostgreSQL cluster under .data/ (installing PostgreSQL when missing).

SHELL := /bin/bash
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run test lint bench loadtest build db-start db-stop clean

build:
	$(GO) build -o bin/salonbook ./src/cmd/salonbook

run: build
	scripts/run.sh

test:
	scripts/browser.sh
	url="$$(scripts/db.sh url)" && DATABASE_URL="$$url" $(GO) test -count=1 ./...

lint:
	@echo "lint: gofmt"
	@out=$$(gofmt -l src migrations); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@echo "lint: go vet"
	@$(GO) vet ./...
	@echo "lint: staticcheck (the first run on a machine downloads and builds it: a few minutes)"
	@$(GO) run $(STATICCHECK) ./...
	@echo "lint: ok"

bench: build
	scripts/bench.sh

# The load harness (src/cmd/loadtest) against salonbook serve; LOADTEST_CHANNEL=whatsapp for WhatsApp.
loadtest:
	scripts/loadtest.sh

db-start:
	scripts/db.sh start

db-stop:
	scripts/db.sh stop

clean:
	rm -rf bin
