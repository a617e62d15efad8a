# GoShop. `make run` serves, `make test` tests; both need the local PostgreSQL and Redis, which
# `make services` starts when they are stopped.
SHELL := /bin/bash
SQLC_VERSION := v1.31.1
GOBIN := $(shell go env GOPATH)/bin
SQLC := $(GOBIN)/sqlc
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/goshop/goshop/internal/app.Version=$(VERSION)
BENCH_FLAGS ?=
# Every go command builds with -trimpath: without it the build cache keys our packages by the
# checkout's directory, so a fresh clone (CI's) compiled everything again (about 3 minutes for
# vet alone here); with it a clone reuses what any earlier build of the same sources compiled.
export GOFLAGS ?= -trimpath

.PHONY: run build test test-short services generate check-generated lint bench tools scale-journey

run: services
	go run ./cmd/goshop serve

build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/goshop ./cmd/goshop

test: services
	go test -race -count=1 -timeout 20m ./...

test-short: services
	go test -count=1 ./...

# services starts PostgreSQL and Redis when they are not answering (the machines here run them
# from Debian's packages; elsewhere start your own and set DATABASE_URL / REDIS_URL).
services:
	@./scripts/services.sh

$(SQLC):
	go install github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION)

tools: $(SQLC)

generate: $(SQLC)
	$(SQLC) generate

# check-generated fails when the committed sqlc output differs from what sqlc makes now.
check-generated: $(SQLC)
	$(SQLC) diff

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...

bench: build services
	./bin/goshop bench $(BENCH_FLAGS)

# scale-journey proves GoShop past one process on this machine: a throwaway PostgreSQL primary and
# streaming hot standby (scripts/pg-standby.sh, run as the postgres user), two API processes and
# one worker on them and the local Redis, one order walked through both instances, then an API
# instance and the worker killed (internal/scaletest). About a minute; it cleans up after itself.
# The test builds the binary with a plain `go build` (GOFLAGS' -trimpath), which reuses the build
# cache that `go vet` and the tests fill (`make build`'s static binary would compile everything
# again); GOSHOP_BINARY=path runs a binary built already instead.
scale-journey: services
	GOSHOP_SCALE_JOURNEY=1 go test -count=1 -timeout 5m -v -run TestScaleJourney ./internal/scaletest/
