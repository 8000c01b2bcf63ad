# vecrec: build the TypeScript once, run the compiled server.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    VECREC_LISTEN=0.0.0.0:50051
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The embedded engine's data directory (used without VECREC_REDIS_URL): a volume the node user owns.
ENV VECREC_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
VOLUME /data
# The image's own user (uid 1000), not root.
USER node
EXPOSE 50051
# grpc.health.v1 Check on the server's port (SERVING only while Redis answers): see src/health-probe.ts.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["node", "dist/src/health-probe.js"]
# node is PID 1 and handles SIGTERM itself (drain, then exit 0): no npm or shell in between. Node's
# flags are the ones `npm start` uses (package.json; README "Memory and the young generation").
CMD ["node", "--max-semi-space-size=64", "dist/src/main.js"]
