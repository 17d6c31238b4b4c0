# syntax=docker/dockerfile:1
# One image for every part of Neon; the first argument names the part:
#   docker build -t neon .
#   docker run neon identity          (gateway, identity, channels, live, chat, notify, payments)
#   docker run -p 8080:8080 -p 1935:1935 -v neon-data:/data neon embedded
# See docs/deploy.md. No container engine runs where this repository is
# developed, so this file has not been built there; tests/e2e/deploy-files.test.ts
# checks what can be checked without one (the entrypoint, the variables, the paths).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund
RUN node scripts/build.mjs && npm run build:web
# Production dependencies of what the compiled server imports (the launcher
# depends on every service), installed apart so no dev tool, web library or
# test browser reaches the image. npm needs every workspace's manifest to read
# the lock file; the list follows "workspaces" in package.json.
RUN mkdir /prod \
  && for manifest in package.json package-lock.json apps/*/package.json packages/*/package.json \
       launcher/package.json tests/e2e/package.json bench/package.json; do \
       mkdir -p "/prod/$(dirname "$manifest")" && cp "$manifest" "/prod/$manifest"; \
     done \
  && cd /prod \
  && npm ci --omit=dev --workspace=@neon/launcher --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# ffmpeg transcodes and records live broadcasts; tini is PID 1 so node gets
# signals forwarded and ffmpeg processes left behind are reaped.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /prod/ ./
COPY --from=build /app/dist ./dist
COPY --from=build /app/apps/web/dist ./apps/web/dist
# Identity reads its password list through the package (node_modules/@neon/identity).
COPY --from=build /app/apps/identity/assets ./apps/identity/assets
COPY --from=build --chmod=755 /app/scripts/docker-entrypoint.sh ./scripts/docker-entrypoint.sh
RUN mkdir -p /data && chown node:node /data

# Inside a container a service must listen on the container's network, not on
# loopback; metrics get a fixed port so a scraper can find them (never published).
ENV DATA_DIR=/data \
    GATEWAY_HOST=0.0.0.0 \
    IDENTITY_HOST=0.0.0.0 \
    CHANNELS_HOST=0.0.0.0 \
    LIVE_HOST=0.0.0.0 \
    CHAT_HOST=0.0.0.0 \
    NOTIFY_HOST=0.0.0.0 \
    PAYMENTS_HOST=0.0.0.0 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9464

USER node
EXPOSE 8080 1935 8101 8102 8103 8104 8105 8106 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/app/scripts/docker-entrypoint.sh", "healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "/app/scripts/docker-entrypoint.sh"]
CMD ["embedded"]
