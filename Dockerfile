# The demo API (and the traffic driver) of the compose stack: the repository's TypeScript run
# with tsx, as `npm run demo` does. Not a production image of a user's app. Node 24, the LTS
# supported longest (maintenance until April 2028; Node 20 reached its end in April 2026).
FROM node:24-bookworm-slim

WORKDIR /app

# Install first (cached while only src/ changes), then generate the demo's Prisma client from
# prisma/schema.prisma (offline: scripts/prisma-generate.mjs), so the schema and the script come along.
# Dev dependencies are needed: Prisma, better-sqlite3 and Express are the demo's, not the package's.
COPY package.json package-lock.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund && npm run prisma:generate && npm cache clean --force

COPY tsconfig.json tenantfence.config.ts ./
COPY src ./src

ENV HOST=0.0.0.0 PORT=3001
EXPOSE 3001
USER node
# node itself (not the tsx wrapper) is PID 1, so SIGTERM from `docker compose stop` reaches the
# server's handler directly and it closes cleanly
CMD ["node", "--import", "tsx", "src/demo/serve.ts"]
