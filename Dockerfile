# Flock's gateway and media service. Build context: the repository root.
#   docker build --target gateway -t flock-gateway .
#   docker build --target media   -t flock-media   .
# TypeScript runs through tsx (there is no build step), so the stages separate the toolchain that
# installs and compiles native dependencies (uWebSockets.js is prebuilt; others may need g++)
# from the slim runtime images, which hold only production node_modules and the sources and run
# as the unprivileged `node` user (uid 1000).

ARG NODE_VERSION=20.19

# ---- dependencies: full toolchain, production packages only --------------------------------
FROM node:${NODE_VERSION}-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY server/package.json server/
COPY client-sdk/package.json client-sdk/
COPY media/package.json media/
COPY load-tests/package.json load-tests/
RUN npm ci --omit=dev --no-audit --no-fund \
      --workspace server --workspace client-sdk --workspace media --include-workspace-root=false

# ---- runtime base: slim image, sources, non-root ----------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY client-sdk/package.json client-sdk/
COPY client-sdk/src client-sdk/src
COPY server/package.json server/
COPY server/src server/src
COPY server/migrations server/migrations
COPY media/ media/
# DATA_DIR: embedded storage (gateway without DATABASE_URL) or HLS files (media); a named volume
# mounted here inherits the node user's ownership.
RUN mkdir -p /var/lib/flock && chown node:node /var/lib/flock
ENV DATA_DIR=/var/lib/flock
USER node
EXPOSE 8080
# Liveness; compose and orchestrators check readiness (/readyz) separately.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# ---- gateway ------------------------------------------------------------------------------------
FROM runtime AS gateway
CMD ["node", "--import", "tsx", "server/src/main.ts"]

# ---- media: the gateway's runtime plus ffmpeg ---------------------------------------------------
FROM runtime AS media
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*
USER node
ENV FFMPEG_PATH=/usr/bin/ffmpeg RTMP_PORT=1935
EXPOSE 8080 1935
# The media service's standalone entry (`npm start -w media`), run by node directly so SIGTERM
# reaches it.
CMD ["node", "--import", "tsx", "media/src/main.ts"]
