// The upstream every path of the gateway benchmark reaches: a Neon service
// built with kit, answering a /api/v1/me-like body from the caller identity.
import { createLogger, createServer } from '@neon/kit';

const jwks = JSON.parse(process.env.BENCH_JWKS ?? '{"keys":[]}') as unknown;
const server = createServer({
  name: 'bench-upstream',
  logger: createLogger({ level: 'warn' }),
  internalSecret: process.env.BENCH_SECRET ?? '',
});
server.get('/.well-known/jwks.json', async () => jwks);
const me = (request: { client: { id: string; username: string; roles: string[] } | null }) => ({
  id: request.client?.id ?? '0190f000-0000-7000-8000-000000000001',
  username: request.client?.username ?? 'bench',
  displayName: 'Bench User',
  bio: '',
  avatarUrl: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  email: 'bench@example.com',
  roles: request.client?.roles ?? ['user'],
});
server.get('/api/v1/me', async (request) => me(request));
// The public API's counterpart: the token's user, in the same body.
server.get('/public/v1/users', async (request) => ({ data: [me(request)] }));
const url = await server.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
