# The Switchyard model worker for GPU pools (linux/amd64, CUDA 12). Build from
# the repository root:
#   docker build --platform linux/amd64 -f mesh/docker/worker-gpu.Dockerfile -t switchyard/model-worker:0.1.0-cuda12 .
# onnxruntime-node's install script fetches its CUDA 12 execution provider here.
FROM node:20.19-bookworm-slim AS node

FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04 AS deps
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=cuda12
COPY package.json package-lock.json ./
COPY observability/package.json observability/
COPY grpc/package.json grpc/
COPY model-workers/package.json model-workers/
COPY gateway/package.json gateway/
COPY mesh/package.json mesh/
COPY test/package.json test/
RUN npm ci --omit=dev --workspace @switchyard/model-worker --foreground-scripts

FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
COPY --from=node /usr/local/bin/node /usr/local/bin/node
RUN useradd --uid 10001 --create-home switchyard
WORKDIR /app
ENV NODE_ENV=production SWITCHYARD_MODEL_REPOSITORY=/models PORT=8000
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY observability ./observability
# The gRPC transport and its .proto files (found relative to the module at run time).
COPY grpc ./grpc
COPY model-workers ./model-workers
USER 10001
EXPOSE 8000
CMD ["node", "--import", "tsx", "model-workers/src/server.ts"]
