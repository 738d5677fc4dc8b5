# syntax=docker/dockerfile:1
# The one FleetBoard image, ghcr.io/fleetboard-io/fleetboard: both charts run it
# (fleetboard-plugin, fleetboard-controller, fleetboard-hub, fleetboard-crossdns)
# and it carries fleetctl and fleetboard-bench (the pods of `fleetctl benchmark`). Build from the repository root:
#   docker build -t ghcr.io/fleetboard-io/fleetboard:0.1.0 .
# (the testbed builds it with buildah: hack/images/build.sh).
# test/image/dockerfile.test.ts checks this file against the charts and the sources.

# Package registries may sit behind a TLS-intercepting proxy whose CA only the
# build machine trusts: pass its bundle as a build secret (mounted for the steps
# that fetch, never stored in the image), e.g.
#   --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt

# TypeScript → dist/, then only the production dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca-certificates,required=false \
    if [ -f /run/secrets/ca-certificates ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-certificates; fi; \
    npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY plugin/ plugin/
COPY controller/ controller/
COPY proto/ proto/
COPY hack/ hack/
COPY test/ test/
RUN npx tsc -p tsconfig.json \
 && find dist -name '*.test.js' -delete -o -name '*.test.js.map' -delete \
 && npm prune --omit=dev --no-audit --no-fund

# wireguard-go at the version hack/tools/wireguard-go/go.mod pins (the testbed
# builds the same one): Debian 12's lacks the TUN and UDP offloads.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS wireguard-go
ARG TARGETOS TARGETARCH
WORKDIR /src
COPY hack/tools/wireguard-go/go.mod hack/tools/wireguard-go/go.sum ./
RUN --mount=type=secret,id=ca-certificates,required=false \
    if [ -f /run/secrets/ca-certificates ]; then export SSL_CERT_FILE=/run/secrets/ca-certificates; fi; \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -o /out/wireguard-go golang.zx2c4.com/wireguard

FROM node:24-bookworm-slim
LABEL org.opencontainers.image.source="https://github.com/fleetboard-io/fleetboard" \
      org.opencontainers.image.description="FleetBoard: a parallel, encrypted pod network across Kubernetes clusters, with Multi-Cluster Services" \
      org.opencontainers.image.licenses="Apache-2.0"
# What the components run: ip (iproute2) for links, addresses and routes; nft
# (nftables) for the ClusterSetIP load balancer; wg (wireguard-tools) for kernel
# WireGuard. nsenter, sh and cat come with the base image (util-linux, dash and
# coreutils are essential in Debian).
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 nftables wireguard-tools \
 && rm -rf /var/lib/apt/lists/*
COPY --from=wireguard-go /out/wireguard-go /usr/local/bin/wireguard-go
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/plugin/ dist/plugin/
COPY --from=build /app/dist/controller/ dist/controller/
COPY --from=build /app/dist/proto/ dist/proto/
# Read at run time: proto/load.ts looks for proto/nri/api.proto above dist/.
COPY proto/ proto/
# One command per component, each exec'ing node so that it gets the signals.
RUN set -eu; \
    for pair in \
      fleetboard-plugin=plugin/main.js \
      fleetboard-controller=controller/main.js \
      fleetboard-hub=controller/hub/main.js \
      fleetboard-crossdns=controller/crossdns/main.js \
      fleetboard-bench=controller/benchagent/main.js \
      fleetctl=controller/cli/main.js; \
    do \
      name=${pair%%=*}; entry=${pair#*=}; \
      printf '#!/bin/sh\nexec node /app/dist/%s "$@"\n' "$entry" > "/usr/local/bin/$name"; \
      chmod 0755 "/usr/local/bin/$name"; \
    done
# Stays root: the cnf and hub containers are privileged and need uid 0 for their
# capabilities; crossdns keeps only NET_BIND_SERVICE (the chart drops the rest).
# No node entrypoint: `docker run <image> fleetctl …` runs what the charts run.
ENTRYPOINT []
CMD ["fleetctl", "--help"]
