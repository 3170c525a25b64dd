# The Switchyard gateway. Build from the repository root:
#   podman build -f mesh/docker/gateway.Dockerfile -t switchyard/gateway:0.1.0 .
# Production dependencies only (no onnxruntime: the gateway never runs models),
# uid 10001 as the manifests run it, nothing written outside /tmp (Kubernetes
# probes /v2/health/* instead of a HEALTHCHECK).
# It runs the compiled JavaScript (`npm run build`'s dist/), started with the
# `switchyard-dist` export condition; nothing is written at start-up.
# Compile the packages this image runs (TypeScript → dist/, no tsx at run time).
FROM docker.io/library/node:20.19-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN --mount=type=secret,id=npm-ca NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca npm ci --ignore-scripts --no-audit --no-fund \
 && npx tsc -p observability/tsconfig.build.json && npx tsc -p grpc/tsconfig.build.json && npx tsc -p fleet-config/tsconfig.build.json && npx tsc -p gateway/tsconfig.build.json

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
# A registry behind a TLS-intercepting proxy: pass its CA bundle as a build secret (never baked into a layer):
#   --secret id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt
RUN --mount=type=secret,id=npm-ca NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca npm ci --omit=dev --workspace @switchyard/gateway --ignore-scripts --no-audit --no-fund \
 # Workspace links other than the gateway's own dependencies, and anything ONNX, stay out of the image.
 && rm -rf node_modules/onnxruntime-node node_modules/onnxruntime-common node_modules/onnx-proto \
      node_modules/@switchyard/model-worker node_modules/@switchyard/fleet node_modules/@switchyard/mesh node_modules/@switchyard/e2e

FROM docker.io/library/node:20.19-bookworm-slim
RUN groupadd --gid 10001 switchyard && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin switchyard
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 SWITCHYARD_CONFIG=/etc/switchyard/switchyard.yaml
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY observability/package.json ./observability/
COPY --from=build /app/observability/dist ./observability/dist
COPY fleet-config/package.json ./fleet-config/
COPY --from=build /app/fleet-config/dist ./fleet-config/dist
COPY gateway/package.json ./gateway/
COPY --from=build /app/gateway/dist ./gateway/dist
# The gRPC transport, compiled, and its .proto files (found relative to the module at run time).
COPY grpc/package.json ./grpc/
COPY --from=build /app/grpc/dist ./grpc/dist
COPY grpc/proto ./grpc/proto
USER 10001:10001
EXPOSE 8080 8081
CMD ["node", "--conditions=switchyard-dist", "--import", "@switchyard/observability/register", "gateway/dist/server.js"]
