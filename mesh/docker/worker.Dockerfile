# The Switchyard model worker, CPU. Build from the repository root:
#   docker build -f mesh/docker/worker.Dockerfile -t switchyard/model-worker:0.1.0 .
# Models are not baked in: mount the repository at /models (a volume, or an
# init container that copies from object storage; see the README).
FROM node:20.19-bookworm-slim AS deps
WORKDIR /app
# CPU binaries ship inside onnxruntime-node; its install script would fetch CUDA.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
COPY observability/package.json observability/
COPY grpc/package.json grpc/
COPY model-workers/package.json model-workers/
COPY gateway/package.json gateway/
COPY mesh/package.json mesh/
COPY test/package.json test/
RUN npm ci --omit=dev --workspace @switchyard/model-worker --ignore-scripts

FROM node:20.19-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production SWITCHYARD_MODEL_REPOSITORY=/models PORT=8000
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY observability ./observability
# The gRPC transport and its .proto files (found relative to the module at run time).
COPY grpc ./grpc
COPY model-workers ./model-workers
USER node
EXPOSE 8000
CMD ["node", "--import", "tsx", "model-workers/src/server.ts"]
