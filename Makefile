GO       ?= go
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   := bin
CMDS     := asbackup asrestore asbfs asdsim
FUZZTIME ?= 10m
# staticcheck is pinned; `go run` fetches it through the Go module proxy once
# and builds it from the module cache afterwards.
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

.PHONY: all build test vet staticcheck fmt-check bench fuzz install demo clean s3-server

all: build

build:
	@mkdir -p $(BINDIR)
	$(GO) build -o $(BINDIR)/ $(addprefix ./cmd/,$(CMDS))

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Checks every package, tests included, with staticcheck.conf.
staticcheck:
	$(STATICCHECK) ./...

# The S3 tests run a real S3 server (MinIO, a Go module pinned in
# internal/miniotest). It is built once into the user's cache directory
# (a few minutes the first time) and reused by later runs.
s3-server:
	$(GO) run ./internal/miniotest/build

# The one command that runs every test (CI calls it through .ci/run).
test: fmt-check vet staticcheck build s3-server
	$(GO) test -count=1 -timeout 14m ./...

bench: s3-server
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s -parallel 1 ./asb

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(addprefix $(BINDIR)/,$(CMDS)) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

demo: build
	./scripts/demo.sh

clean:
	rm -rf $(BINDIR)
