# syntax=docker/dockerfile:1
# One image for every process: `api` by default, or `worker`, `migrate`, `create-admin`, `serve` as
# its arguments (see compose.yaml). Not built in this repository's CI, which has no Docker engine:
# .ci/run runs scripts/smoke-runtime.ts instead, which reads the runtime stage's COPY lines below,
# copies the same paths into an empty directory, installs as the deps stage does and starts
# `api` and `worker` from there. Keep those lines plain `COPY [--from=stage] <source> <dest>`.

# The image's Node.js: an LTS line that package.json's engines accept (CI tests on 20).
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Production dependencies only, installed apart so the build's dev tools never reach the image.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# tini as PID 1 passes SIGTERM on to Node (which then finishes its requests and jobs) and reaps
# the HTTP processes WEB_CONCURRENCY forks; no `docker run --init` needed.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 WORKER_PORT=3001 DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# package.json says `"type": "module"`, which is how Node reads dist/ as ES modules.
COPY package.json ./
# Read at run time: the SQL migrations (and their journal), and dist/dashboard, the browser bundle.
COPY migrations ./migrations
COPY --from=build /app/dist ./dist
# DATA_DIR: the embedded database, outbox and uploads when run without DATABASE_URL.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000 3001
# An `api` or `serve` answers on PORT, a `worker` on WORKER_PORT: whichever is this container's
# process must say it is ready (its database and Redis answer). The slim image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "-e", "const ready = (port) => fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => (r.ok ? r : Promise.reject(r))); Promise.any([process.env.PORT, process.env.WORKER_PORT].map(ready)).then(() => process.exit(0), () => process.exit(1));"]
ENTRYPOINT ["tini", "--", "node", "dist/cli.js"]
CMD ["api"]
