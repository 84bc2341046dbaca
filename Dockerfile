# syntax=docker/dockerfile:1
# policy-engine: the authorization sidecar as a small, non-root, read-only-root image.
#   docker build -t policy-engine:0.1.0 .
# Both stages use the same base, Node 24 LTS (maintained to April 2028; Node 20 reached end
# of life in April 2026 and Node 22 ends in April 2027). The major is pinned and the tag follows
# its security releases; pin the digest too (node:24-bookworm-slim@sha256:…) where builds must
# be reproducible. The code itself stays compatible with Node 20.19+ (package.json engines),
# which the test machines run. Debian slim rather than Alpine: the mongodb driver and Node's
# own binaries are built and tested against glibc.

# ---- build: all dependencies, TypeScript → dist/, the playground bundle → dist/ui ----
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: nothing the compiler needs runs an install script
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The playground page (/ui): bundled here, with its editor, so it loads nothing from outside.
COPY ui ./ui
COPY scripts/build-ui.mjs ./scripts/
RUN npm run build

# ---- runtime: production dependencies and the compiled code only ----
FROM node:24-bookworm-slim AS runtime
# HOST=0.0.0.0: a container's loopback is its own, so the port must listen on every
# interface to be published. Beyond loopback the server refuses writes unless
# ADMIN_TOKEN is set (docs/deploy.md). The k8s sidecar sets HOST=127.0.0.1 instead.
# NODE_OPTIONS and MALLOC_ARENA_MAX: how `npm start` runs node (package.json; a test keeps
# them equal), for a 256 MiB container: a 2 MB young generation instead of 16 MB, an old
# space bounded at 160 MB, two glibc malloc arenas instead of one per thread. With more
# documents, raise the bound with the memory limit (docs/deploy.md, "Memory").
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=160" \
    MALLOC_ARENA_MAX=2 \
    HOST=0.0.0.0 \
    PORT=8080 \
    POLICY_DIR=/policies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /policies \
 && chown 10001:10001 /policies
COPY --from=build /app/dist ./dist
# A numeric user with no passwd entry: runAsNonRoot can verify it, and it owns nothing
# but /policies (the file store's directory; a volume or ConfigMap usually replaces it).
# Nothing else is written at run time except /tmp, so `--read-only --tmpfs /tmp` works.
USER 10001:10001
EXPOSE 8080
# Node itself (slim images have no curl). Liveness only; readiness is /readyz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself (src/main.ts closes gracefully).
ENTRYPOINT ["node", "dist/main.js"]
