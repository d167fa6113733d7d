# syntax=docker/dockerfile:1
# One image per service, from this one file at the repository root (skaffold passes SERVICE):
#   docker build --build-arg SERVICE=connector -t isams-sync-connector .
# SERVICE is connector, roster, bookings or gateway. Every image also carries the topic hook's
# script (dist/create-topics/main.js; the Helm hook Job runs it from the connector image) and the
# dead-letter command (dist/dlq/main.js: list/replay, see docs/deploy.md).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6

# Dependencies: only the manifests, so this layer is rebuilt when dependencies change, not on every
# source edit. `COPY --parents` (Dockerfile syntax 1.20 and later, which `docker/dockerfile:1` is) keeps
# each workspace manifest in its folder; its globs are the workspaces' patterns of package.json
# (tools/build/dockerfile.test.ts checks them), so a new workspace needs no line here.
# Install scripts are skipped: the image's Node is the runtime (the `node` package is for dev
# machines), and nothing the bundle needs builds anything at install time; the project's own patches
# of dependencies (patches/, see docs/development.md) are applied explicitly.
FROM ${NODE_IMAGE} AS deps
WORKDIR /repo
COPY --parents package.json package-lock.json libs/*/package.json services/*/package.json ./
COPY patches/ patches/
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && node_modules/.bin/patch-package

# Build: the sources, the gRPC types from protos/, then one ESM bundle per target (tools/build/bundle.ts).
FROM deps AS build
ARG SERVICE
COPY tsconfig.base.json tsconfig.json ./
COPY protos/ protos/
COPY libs/ libs/
COPY services/ services/
COPY tools/build/ tools/build/
COPY tools/codegen/gen-protos.ts tools/codegen/gen-dataset-tables.ts tools/codegen/
# The gRPC types (from protos/) and the iSAMS dataset tables' TypeScript (from libs/isams/datasets/) are
# generated, not committed (npm ci's postinstall makes them on dev machines).
RUN test -n "${SERVICE}" || { echo 'build with --build-arg SERVICE=<connector|roster|bookings|gateway>' >&2; exit 1; } \
 && node --import tsx tools/codegen/gen-protos.ts --quiet \
 && node --import tsx tools/codegen/gen-dataset-tables.ts --quiet \
 && node --import tsx tools/build/bundle.ts "${SERVICE}" create-topics dlq

# Runtime: Node only (npm and corepack removed), the bundle and the protos; non-root; nothing written
# but /tmp (an emptyDir in the chart).
FROM ${NODE_IMAGE}
ARG SERVICE
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
ENV NODE_ENV=production \
    PROTOS_DIR=/app/protos \
    GATEWAY_WEB_DIR=/app/dist/web
WORKDIR /app
COPY --from=build /repo/protos/ ./protos/
COPY --from=build /repo/dist/${SERVICE}/ ./dist/
COPY --from=build /repo/dist/create-topics/ ./dist/create-topics/
COPY --from=build /repo/dist/dlq/ ./dist/dlq/
USER 65532:65532
# gRPC 50051 (connector, roster, bookings) or HTTP 8080 (gateway); ops HTTP 9464 (/metrics, /health, /ready).
EXPOSE 50051 8080 9464
CMD ["node", "--enable-source-maps", "dist/main.js"]
