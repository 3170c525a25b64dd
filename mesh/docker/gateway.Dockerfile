# The Switchyard gateway. Build from the repository root:
#   docker build -f mesh/docker/gateway.Dockerfile -t switchyard/gateway:0.1.0 .
# Production dependencies only, non-root, nothing written to the root filesystem
# (Kubernetes probes /v2/health/* instead of a HEALTHCHECK).
FROM node:20.19-bookworm-slim AS deps
WORKDIR /app
# The gateway never runs models: skip onnxruntime-node's CUDA download.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
COPY observability/package.json observability/
COPY grpc/package.json grpc/
COPY model-workers/package.json model-workers/
COPY gateway/package.json gateway/
COPY mesh/package.json mesh/
COPY test/package.json test/
RUN npm ci --omit=dev --workspace @switchyard/gateway --ignore-scripts

FROM node:20.19-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY observability ./observability
# The gRPC transport and its .proto files (found relative to the module at run time).
COPY grpc ./grpc
COPY model-workers ./model-workers
COPY gateway ./gateway
USER node
EXPOSE 8080 8081
CMD ["node", "--import", "tsx", "gateway/src/server.ts"]
