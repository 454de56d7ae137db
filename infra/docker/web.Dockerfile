# syntax=docker/dockerfile:1
# Tandem Lab web image: the Next.js app (apps/web) and the database tooling (prisma/, `npm run db:migrate`).
# The same image serves the web app and runs the one-shot migrate job.
#   docker build -f infra/docker/web.Dockerfile -t tandem-lab/web .        (context: repository root)
# Runtime env: DATABASE_URL and AUTH_SECRET (required), TANDEM_RUNS_DIR — see infra/README.md.

ARG NODE_IMAGE=node:20-bookworm
ARG NODE_RUNTIME_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------- build
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1 \
    CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1
# The npm the repository pins (package.json "packageManager"); npm 11 honours its "allowScripts".
RUN npm install -g npm@11.19.1

# Whole context at once: every workspace's package.json must be in place for npm to link the workspaces.
# The npm cache mount keeps re-installs fast when only sources changed.
COPY . .
# `npm install`, not `npm ci`: the lockfile, written on a registry mirror without macOS/Windows builds,
# lacks some optional platform entries that `npm ci` insists on (prisma/README.md, DESIGN §7).
RUN --mount=type=cache,target=/root/.npm npm install --no-audit --no-fund
# Prisma Client into apps/web/src/generated/prisma (offline; no engine download).
RUN npm run db:generate
# No database or secret at build time: the app validates its environment on first use (apps/web/src/env.ts).
RUN npm run build -w apps/web \
 && rm -rf apps/web/.next/cache

# ---------------------------------------------------------------- runtime
FROM ${NODE_RUNTIME_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to npm/next so `docker stop` and pod termination are prompt.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1 \
    PORT=3000 \
    HOSTNAME=0.0.0.0 \
    TANDEM_RUNS_DIR=/data/runs

# Code stays root-owned (read-only to the app user); only Next's cache folder is writable.
# node_modules keeps its dev dependencies: `npm run db:migrate` needs @prisma/schema-engine-wasm & co.
COPY --from=build /app/package.json /app/package-lock.json /app/tsconfig.base.json /app/prisma.config.ts ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/packages ./packages
COPY --from=build /app/apps ./apps
COPY infra/docker/web-healthcheck.mjs /usr/local/lib/tandem/web-healthcheck.mjs
# /data is the shared volume's mount point. Owned by uid 1000 as in the worker images: whichever container
# first mounts the empty named volume seeds its ownership, and the workers must be able to write there.
RUN mkdir -p apps/web/.next/cache /data/runs /data/cache \
 && chown 1000:1000 apps/web/.next/cache /data /data/runs /data/cache

USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=6s --start-period=40s --retries=3 \
  CMD ["node", "/usr/local/lib/tandem/web-healthcheck.mjs"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["npm", "run", "start", "-w", "apps/web"]
