# The edge workers' Deno host, run as sidecars of the gateway pod (see
# mesh/src/render/edge-workers.ts). Build from the repository root:
#   podman build -f mesh/docker/edge-worker.Dockerfile -t switchyard/edge-worker:0.1.0 .
# Deno is the binary of the `deno` npm package at the lockfile's version
# (its platform package carries it; nothing is fetched from elsewhere). The
# image holds Deno and the host program only: each sidecar's module and entry
# come from the switchyard-config ConfigMap, its command line from the
# rendered Deployment (the same permission flags as the local fleet). bash
# and coreutils serve the sidecar's exec probes. uid 10001; Deno's compile
# cache goes to /tmp (an emptyDir), the root filesystem stays read-only.
FROM docker.io/library/node:20.19-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY observability/package.json observability/
COPY fleet-config/package.json fleet-config/
COPY grpc/package.json grpc/
COPY model-workers/package.json model-workers/
COPY gateway/package.json gateway/
COPY fleet/package.json fleet/
COPY mesh/package.json mesh/
COPY test/package.json test/
# The gateway image's install, word for word (a shared layer): the gateway depends on `deno`, whose
# platform package @deno/linux-x64-glibc holds the binary. Pass a TLS-intercepting proxy's CA as a build secret:
#   --secret id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt
RUN --mount=type=secret,id=npm-ca NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca npm ci --omit=dev --workspace @switchyard/gateway --ignore-scripts --no-audit --no-fund \
 # Workspace links other than the gateway's own dependencies, and anything ONNX, stay out of the image.
 && rm -rf node_modules/onnxruntime-node node_modules/onnxruntime-common node_modules/onnx-proto \
      node_modules/@switchyard/model-worker node_modules/@switchyard/fleet node_modules/@switchyard/mesh node_modules/@switchyard/e2e
RUN test -x node_modules/@deno/linux-x64-glibc/deno

FROM docker.io/library/debian:bookworm-slim
RUN groupadd --gid 10001 switchyard && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin switchyard
COPY --from=deps /app/node_modules/@deno/linux-x64-glibc/deno /usr/local/bin/deno
COPY gateway/src/edge/contract.ts /opt/switchyard/edge/contract.ts
COPY gateway/src/edge/host/deno-host.ts /opt/switchyard/edge/host/deno-host.ts
ENV DENO_DIR=/tmp/deno DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
USER 10001:10001
CMD ["deno", "--version"]
