# syntax=docker/dockerfile:1
# Tandem Lab live image: the live model service (workers/live, npm workspace @tandem/live), which streams
# generations from checkpoints exported to ONNX on the CPU build of onnxruntime-node.
#   docker build -f infra/docker/live.Dockerfile -t tandem-lab/live .       (context: repository root)
# Runtime env: LIVE_HOST (0.0.0.0 here), LIVE_PORT (8790), LIVE_THREADS, LIVE_MAX_BATCH — see infra/README.md.
# Needs the shared data volume at /data (read-only is enough): requests name export folders under
# /data/runs/onnx/<checkpoint id>. No database.

ARG NODE_IMAGE=node:20-bookworm
ARG NODE_RUNTIME_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------- build
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The npm the repository pins (package.json "packageManager"); npm 11 honours its "allowScripts", which
# denies onnxruntime-node's install script (it would download CUDA libraries; .npmrc also says skip).
# The CPU binaries ship inside the npm package.
RUN npm install -g npm@11.19.1

# Only what the live workspace needs: the root manifest, lockfile and .npmrc, then the workspace's manifest
# (dependencies cached while only sources change). The other workspaces are absent; `--workspace`
# installs this workspace's dependencies only (tsx included: `npm start` runs the TypeScript sources).
# `npm install`, not `npm ci`: the lockfile lacks some optional platform entries (see web.Dockerfile).
COPY package.json package-lock.json .npmrc ./
COPY workers/live/package.json workers/live/
RUN --mount=type=cache,target=/root/.npm npm install --no-audit --no-fund --workspace=workers/live
# onnxruntime-node carries binaries for every OS and CPU (~290 MB); keep this platform's (~45 MB).
RUN arch="$(node -p process.arch)" \
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 ! -name linux -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -path '*/linux/*' ! -name "$arch" -exec rm -rf {} + \
 && test -f "node_modules/onnxruntime-node/bin/napi-v6/linux/$arch/onnxruntime_binding.node"
COPY workers/live workers/live

# ---------------------------------------------------------------- runtime
FROM ${NODE_RUNTIME_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to the server, which drains its sessions (up to LIVE_DRAIN_MS, 10 s).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    LIVE_HOST=0.0.0.0 \
    LIVE_PORT=8790

# Code stays root-owned (read-only to the app user); tsx keeps its compile cache under /tmp. The root
# package.json keeps `npm run <script> -w workers/live` working in the container; nothing installs here.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/workers/live ./workers/live
COPY infra/docker/live-healthcheck.mjs /usr/local/lib/tandem/live-healthcheck.mjs
# /data is the shared volume's mount point, owned by uid 1000 as in the other images (whichever container
# first mounts the empty named volume seeds its ownership, and the workers must be able to write there).
RUN mkdir -p /data/runs /data/cache \
 && chown 1000:1000 /data /data/runs /data/cache

USER 1000:1000
EXPOSE 8790
HEALTHCHECK --interval=15s --timeout=6s --start-period=20s --retries=3 \
  CMD ["node", "/usr/local/lib/tandem/live-healthcheck.mjs"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# What `npm run start -w workers/live` runs (`tsx src/server.ts` in workers/live), as one node process with
# tsx as its loader: through npm -> sh -> tsx, a SIGTERM stops npm and sh at once and tini exits with
# them, cutting the drain short (or leaving the server running) — here the server gets the signal itself.
WORKDIR /app/workers/live
CMD ["node", "--import", "tsx", "src/server.ts"]
