# The Switchyard model worker for GPU pools (linux/amd64). Build from the
# repository root:
#   podman build --platform linux/amd64 -f mesh/docker/worker-gpu.Dockerfile -t switchyard/model-worker:0.1.0-cuda12 .
# onnxruntime-node 1.30's CUDA execution provider needs CUDA 12.x and cuDNN 9:
# the base is NVIDIA's CUDA 12.8 runtime image with cuDNN 9 (Ubuntu 24.04).
#
# What this build downloads from outside the npm registry: with
# ONNXRUNTIME_NODE_INSTALL=cuda12, onnxruntime-node's install script fetches
# the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0 from
# https://api.nuget.org/v3/index.json and extracts
# libonnxruntime_providers_{cuda,shared,tensorrt}.so into
# node_modules/onnxruntime-node/bin/napi-v6/linux/x64/. The build host must
# reach api.nuget.org (and the image registry for the CUDA base).
# Compile the packages this image runs (TypeScript → dist/, no tsx at run time).
FROM docker.io/library/node:20.19-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN --mount=type=secret,id=npm-ca NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca npm ci --ignore-scripts --no-audit --no-fund \
 && npx tsc -p observability/tsconfig.build.json && npx tsc -p grpc/tsconfig.build.json && npx tsc -p model-workers/tsconfig.build.json

FROM docker.io/library/node:20.19-bookworm-slim AS node

FROM docker.io/nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS deps
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=cuda12
COPY package.json package-lock.json ./
COPY observability/package.json observability/
COPY fleet-config/package.json fleet-config/
COPY grpc/package.json grpc/
COPY model-workers/package.json model-workers/
COPY gateway/package.json gateway/
COPY fleet/package.json fleet/
COPY mesh/package.json mesh/
COPY test/package.json test/
# No .npmrc here: its `onnxruntime-node-install=skip` would win over the cuda12 opt-in.
# A registry behind a TLS-intercepting proxy: pass its CA bundle as a build secret (never baked into a layer):
#   --secret id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt
RUN --mount=type=secret,id=npm-ca NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca npm ci --omit=dev --workspace @switchyard/model-worker --foreground-scripts --no-audit --no-fund \
 && rm -rf node_modules/@switchyard/gateway node_modules/@switchyard/fleet node_modules/@switchyard/mesh node_modules/@switchyard/e2e \
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -type d ! -path '*/linux/x64' -exec rm -rf {} + \
 && test -e node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so

FROM docker.io/nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
COPY --from=node /usr/local/bin/node /usr/local/bin/node
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
