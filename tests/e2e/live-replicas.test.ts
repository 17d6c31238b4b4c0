import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { JetStreamBus } from '@neon/bus';
import { LIVE_HOLDERS_KEY, type StreamKeyResponse, type StreamSettings } from '@neon/contracts';
import { createPostgresDb, type Db } from '@neon/db';
import { buildApp as buildGateway, gatewayService } from '@neon/gateway';
import { clientHeaders, createLogger, loadConfig, uuidv7, type Client } from '@neon/kit';
import { buildApp as buildLive, liveService, type LiveService } from '@neon/live';
import type { Platform, Service } from '@neon/platform';
import {
  createTestDatabase,
  deleteStream,
  engines,
  freePort,
  skipUnless,
  startSmallEncoder,
  uniqueName,
  waitFor,
  type TestDatabase,
} from '@neon/testing';

const e = engines();
const skip =
  skipUnless(e.databaseUrl, 'TEST_DATABASE_URL') ||
  skipUnless(e.natsUrl, 'TEST_NATS_URL') ||
  skipUnless(e.redisUrl, 'TEST_REDIS_URL');

const SECRET = randomBytes(32).toString('base64url');

interface Node {
  service: Service;
  url: string;
  close(): Promise<void>;
}

/**
 * Two live replicas and two gateways, every one its own platform (database
 * pool, JetStream connection, Redis connection) on the same engines, as
 * separate machines would have them.
 */
describe('live across replicas, through two gateways', { skip, timeout: 240_000 }, () => {
  const namespace = uniqueName('LIVEREP').toUpperCase();
  let tdb: TestDatabase;
  const dataDirs: string[] = [];
  const encoders: ChildProcess[] = [];
  let lives: (Node & { live: LiveService; platform: Platform })[] = [];
  let gateways: Node[] = [];
  const redis = () => new Redis(e.redisUrl!, { keyPrefix: `${namespace}:` });

  async function platformFor(
    name: string,
  ): Promise<{ platform: Platform; end: () => Promise<void> }> {
    const db: Db = createPostgresDb({ url: tdb.url, max: 4 });
    const bus = await JetStreamBus.connect({ url: e.natsUrl!, producer: name, namespace });
    const r = redis();
    const dataDir = mkdtempSync(join(tmpdir(), `neon-${name}-`));
    dataDirs.push(dataDir);
    return {
      platform: {
        shape: 'distributed',
        logger: createLogger({ level: 'warn' }),
        db,
        bus,
        redis: r,
        internalSecret: SECRET,
        dataDir,
        publicUrl: 'http://localhost:8080',
      },
      async end() {
        await bus.close();
        await r.quit();
        await db.close();
      },
    };
  }

  before(async () => {
    tdb = await createTestDatabase(e.databaseUrl!);
    for (const name of ['live-1', 'live-2']) {
      const { platform, end } = await platformFor(name);
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const live = await buildLive(
        platform,
        loadConfig(liveService.spec, {
          RTMP_HOST: '127.0.0.1',
          RTMP_PORT: '0',
          LIVE_PORT: String(port),
          LIVE_ADVERTISE_URL: url,
          LIVE_ENDED_PLAYLIST_SECONDS: '1',
          STREAM_KEY_SECRET: SECRET,
          LIVE_HOLDER_LEASE_MS: '3000',
        }),
      );
      await live.server.listen({ host: '127.0.0.1', port });
      await live.start?.();
      lives.push({
        service: live,
        live,
        platform,
        url,
        async close() {
          await live.server.close();
          await live.close();
          await end();
        },
      });
    }
    for (const name of ['gateway-1', 'gateway-2']) {
      const { platform, end } = await platformFor(name);
      const gateway = await buildGateway(
        platform,
        loadConfig(gatewayService.spec, {
          WEB_ROOT: '/nonexistent',
          GATEWAY_HEALTH_INTERVAL_MS: '200',
          LIVE_URL: lives.map((l) => l.url).join(','),
          GATEWAY_REDIS_PREFIX: uniqueName('gw'),
        }),
      );
      const url = await gateway.server.listen({ host: '127.0.0.1', port: 0 });
      await gateway.start?.();
      gateways.push({
        service: gateway,
        url,
        async close() {
          await gateway.server.close();
          await gateway.close?.();
          await end();
        },
      });
    }
  });

  after(async () => {
    for (const child of encoders) if (child.exitCode === null) child.kill('SIGKILL');
    for (const n of [...gateways, ...lives]) await n.close().catch(() => undefined);
    gateways = [];
    lives = [];
    await tdb?.drop();
    await deleteStream(e.natsUrl!, namespace).catch(() => undefined);
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
  });

  const user = (): Client => ({
    id: uuidv7(),
    username: uniqueName('s').slice(0, 25).toLowerCase(),
    roles: ['user'],
  });

  async function keyOf(owner: Client): Promise<string> {
    const res = await lives[0]!.live.server.inject({
      url: '/api/v1/me/stream-key',
      headers: clientHeaders(owner, SECRET),
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<StreamKeyResponse>().streamKey;
  }

  function publish(replica: number, key: string): ChildProcess {
    const port = lives[replica]!.live.rtmpPort();
    const child = startSmallEncoder(`rtmp://127.0.0.1:${port}/live/${key}`);
    encoders.push(child);
    return child;
  }

  async function liveOn(replica: number, owner: Client): Promise<StreamSettings> {
    const res = await lives[replica]!.live.server.inject({
      url: '/api/v1/me/stream',
      headers: clientHeaders(owner, SECRET),
    });
    return res.json<StreamSettings>();
  }

  /** Every playlist and the media each names, through one gateway; the statuses that were not 200. */
  async function play(gateway: string, channel: string): Promise<string[]> {
    const failures: string[] = [];
    const get = async (path: string): Promise<string> => {
      const res = await fetch(`${gateway}${path}`);
      const body = await res.text();
      if (res.status !== 200) failures.push(`${res.status} ${path} ${body.slice(0, 200)}`);
      return body;
    };
    const master = await get(`/hls/${channel}/master.m3u8`);
    const playlists = [
      ...master.split('\n').filter((l) => l && !l.startsWith('#')),
      ...[...master.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!),
    ];
    for (const playlist of playlists) {
      const folder = playlist.split('/').slice(0, -1).join('/');
      const text = await get(`/hls/${channel}/${playlist}`);
      const media = [
        ...[...text.matchAll(/#EXT-X-MAP:URI="([^"]+)"/g)].map((m) => m[1]!),
        ...[...text.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)"/g)].map((m) => m[1]!).slice(-3),
        ...text
          .split('\n')
          .filter((l) => l && !l.startsWith('#'))
          .slice(-2),
      ];
      for (const file of media) await get(`/hls/${channel}/${folder}/${file}`);
    }
    await get(`/dash/${channel}/manifest.mpd`);
    return failures;
  }

  it('serves each broadcast through either gateway from the replica that holds it, and fences a second publisher', async () => {
    const alice = user();
    const bob = user();
    const aliceKey = await keyOf(alice);
    const bobKey = await keyOf(bob);
    publish(0, aliceKey);
    publish(1, bobKey);
    for (const [owner, replica] of [
      [alice, 0],
      [bob, 1],
    ] as const) {
      // DASH is offered from the second segment on, HLS from the first.
      await waitFor(
        async () => (await fetch(`${gateways[0]!.url}/dash/${owner.username}/manifest.mpd`)).ok,
        { timeoutMs: 40_000, intervalMs: 250, what: `${owner.username} live` },
      );
      assert.equal((await liveOn(replica, owner)).live, true);
    }
    const holders = redis();
    try {
      const entries = await holders.hgetall(LIVE_HOLDERS_KEY);
      assert.deepEqual(
        Object.fromEntries(
          Object.entries(entries).map(([c, v]) => [
            c,
            (JSON.parse(v) as { replica: string }).replica,
          ]),
        ),
        { [alice.username]: lives[0]!.url, [bob.username]: lives[1]!.url },
      );
    } finally {
      holders.disconnect();
    }

    // Round-robin alone would send half of these to the replica without the broadcast (404).
    const failures: string[] = [];
    for (let round = 0; round < 4; round++)
      for (const g of gateways)
        for (const owner of [alice, bob]) failures.push(...(await play(g.url, owner.username)));
    assert.deepEqual(failures, []);

    // Alice's key on the other replica, while her broadcast runs: refused there, hers goes on.
    const intruder = publish(1, aliceKey);
    const [code] = (await once(intruder, 'exit')) as [number | null];
    assert.notEqual(code, 0, 'the second publisher is refused');
    assert.equal(lives[1]!.live.broadcasts.get(alice.username), null);
    assert.ok(lives[0]!.live.broadcasts.get(alice.username)?.publisher, 'her encoder stays');
    assert.deepEqual(await play(gateways[1]!.url, alice.username), []);

    // Once she ends it there (and its ended playlists have gone), the other replica may carry her.
    const ended = await lives[0]!.live.server.inject({
      method: 'POST',
      url: '/api/v1/me/stream/end',
      headers: clientHeaders(alice, SECRET),
    });
    assert.equal(ended.statusCode, 200, ended.body);
    await waitFor(
      async () => !(await fetch(`${gateways[0]!.url}/hls/${alice.username}/master.m3u8`)).ok,
      {
        timeoutMs: 15_000,
        what: 'the ended broadcast to be released',
      },
    );
    publish(1, aliceKey);
    await waitFor(
      async () =>
        lives[1]!.live.broadcasts.get(alice.username) !== null &&
        (await fetch(`${gateways[0]!.url}/dash/${alice.username}/manifest.mpd`)).ok,
      {
        timeoutMs: 40_000,
        intervalMs: 250,
        what: 'alice live on the second replica',
      },
    );
    const moved: string[] = [];
    for (const g of gateways) moved.push(...(await play(g.url, alice.username)));
    assert.deepEqual(moved, []);

    // Bob's claim taken behind his replica's back (as after it lost Redis for a whole lease):
    // it stops his broadcast and cuts his encoder off, rather than serve beside another.
    const bobEncoder = encoders[1]!;
    const taken = redis();
    try {
      await taken.hset(
        LIVE_HOLDERS_KEY,
        bob.username,
        JSON.stringify({
          replica: 'http://elsewhere:8103',
          broadcastId: 'x',
          until: Date.now() + 60_000,
        }),
      );
    } finally {
      taken.disconnect();
    }
    await waitFor(() => lives[1]!.live.broadcasts.get(bob.username) === null, {
      timeoutMs: 10_000,
      what: "bob's broadcast to end on the replica that lost his channel",
    });
    if (bobEncoder.exitCode === null && bobEncoder.signalCode === null)
      await once(bobEncoder, 'exit');
  });
});
