# The Switchyard model worker, CPU, linux/amd64. Build from the repository root:
#   podman build -f mesh/docker/worker.Dockerfile -t switchyard/model-worker:0.1.0 .
# Models are not baked in: mount the repository at /models (a volume, or an
# init container that copies from object storage; see the README).
# It runs the compiled JavaScript (`npm run build`'s dist/), started with the
# `switchyard-dist` export condition; nothing is written at start-up.
# Compile the packages this image runs (TypeScript → dist/, no tsx at run time).
FROM docker.io/library/node:20.19-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN --mount=type=secret,id=npm-ca NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca npm ci --ignore-scripts --no-audit --no-fund \
 && npx tsc -p observability/tsconfig.build.json && npx tsc -p grpc/tsconfig.build.json && npx tsc -p model-workers/tsconfig.build.json

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
# CPU binaries ship inside onnxruntime-node; its install script would fetch CUDA, so scripts stay off.
# A registry behind a TLS-intercepting proxy: pass its CA bundle as a build secret (never baked into a layer):
#   --secret id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt
RUN --mount=type=secret,id=npm-ca NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca npm ci --omit=dev --workspace @switchyard/model-worker --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/@switchyard/gateway node_modules/@switchyard/fleet node_modules/@switchyard/mesh node_modules/@switchyard/e2e \
 # Only the target platform's ONNX Runtime (the package carries darwin, win32 and linux-arm64 too, ~245 MB).
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -type d ! -path '*/linux/x64' -exec rm -rf {} + \
 && test -e node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node

FROM docker.io/library/node:20.19-bookworm-slim
RUN groupadd --gid 10001 switchyard && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin switchyard
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000 SWITCHYARD_MODEL_REPOSITORY=/models
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY observability/package.json ./observability/
COPY --from=build /app/observability/dist ./observability/dist
COPY model-workers/package.json ./model-workers/
COPY --from=build /app/model-workers/dist ./model-workers/dist
# The gRPC transport, compiled, and its .proto files (found relative to the module at run time).
COPY grpc/package.json ./grpc/
COPY --from=build /app/grpc/dist ./grpc/dist
COPY grpc/proto ./grpc/proto
USER 10001:10001
EXPOSE 8000
CMD ["node", "--conditions=switchyard-dist", "--import", "@switchyard/observability/register", "model-workers/dist/server.js"]
