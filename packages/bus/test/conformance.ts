import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { EventOf } from '@neon/contracts';
import { EventValidationError, handleOnce, type Bus } from '@neon/bus';
import { migrate } from '@neon/db';
import { openPglite, sleep, waitFor } from '@neon/testing';

export interface BusFactory {
  /** A bus on the shared test namespace: a new "process" each call. */
  open(producer: string): Promise<Bus>;
  /** Whether two open() calls can reach each other (separate processes). */
  crossProcess: boolean;
  cleanup(): Promise<void>;
}

const viewers = (channel: string, n: number) => ({ channel, broadcastId: 'b1', viewers: n });

/** The contract every bus adapter must keep; run against each. */
export function busConformance(
  name: string,
  skip: string | false,
  makeFactory: () => Promise<BusFactory>,
): void {
  describe(`bus conformance: ${name}`, { skip }, () => {
    let factory: BusFactory;
    let bus: Bus;
    before(async () => {
      factory = await makeFactory();
      bus = await factory.open('test');
    });
    after(async () => {
      await bus.close();
      await factory.cleanup();
    });

    it('publishes an envelope with id, type, time, producer and data', async () => {
      const got: EventOf<'live.viewers.updated.v1'>[] = [];
      const sub = await bus.subscribe({
        group: 'envelope',
        from: 'new',
        types: ['live.viewers.updated.v1'],
        handler: async (e) => void got.push(e),
      });
      const sent = await bus.publish('live.viewers.updated.v1', viewers('alice', 3));
      await waitFor(() => got.length === 1, { what: 'delivery' });
      assert.deepEqual(got[0], sent);
      assert.match(
        sent.id,
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.equal(sent.producer, 'test');
      assert.ok(Date.parse(sent.occurredAt) <= Date.now());
      await sub.close();
    });

    it('refuses data that breaks the contract and unknown types', async () => {
      await assert.rejects(
        bus.publish('live.viewers.updated.v1', { channel: 'a', broadcastId: 'b', viewers: -1 }),
        EventValidationError,
      );
      await assert.rejects(
        bus.publish('nope.thing.done.v1' as never, {} as never),
        EventValidationError,
      );
    });

    it('gives each group every event once, and only the types it asked for', async () => {
      const a: number[] = [];
      const b: number[] = [];
      const s1 = await bus.subscribe({
        group: 'ga',
        from: 'new',
        types: ['live.viewers.updated.v1'],
        handler: async (e) => void a.push(e.data.viewers),
      });
      const s2 = await bus.subscribe({
        group: 'gb',
        from: 'new',
        types: ['live.viewers.updated.v1'],
        handler: async (e) => void b.push(e.data.viewers),
      });
      const other: string[] = [];
      const s3 = await bus.subscribe({
        group: 'gc',
        from: 'new',
        types: ['chat.message.created.v1'],
        handler: async (e) => void other.push(e.type),
      });
      for (let i = 0; i < 20; i++) await bus.publish('live.viewers.updated.v1', viewers('g', i));
      await waitFor(() => a.length === 20 && b.length === 20, { what: 'both groups' });
      await sleep(200);
      assert.deepEqual(
        [...a].sort((x, y) => x - y),
        [...Array(20).keys()],
      );
      assert.deepEqual(
        [...b].sort((x, y) => x - y),
        [...Array(20).keys()],
      );
      assert.deepEqual(other, []);
      await Promise.all([s1.close(), s2.close(), s3.close()]);
    });

    it('shares a group between its members, each event going to one of them', async () => {
      const second = await factory.open('member-2');
      const m1: number[] = [];
      const m2: number[] = [];
      const slow = async () => sleep(5);
      const s1 = await bus.subscribe({
        group: 'shared',
        from: 'new',
        types: ['live.viewers.updated.v1'],
        handler: async (e) => {
          m1.push(e.data.viewers);
          await slow();
        },
      });
      const s2 = await second.subscribe({
        group: 'shared',
        from: 'new',
        types: ['live.viewers.updated.v1'],
        handler: async (e) => {
          m2.push(e.data.viewers);
          await slow();
        },
      });
      for (let i = 0; i < 200; i++) await bus.publish('live.viewers.updated.v1', viewers('s', i));
      await waitFor(() => m1.length + m2.length >= 200, {
        what: 'all deliveries',
        timeoutMs: 15_000,
      });
      await sleep(300);
      const all = [...m1, ...m2].sort((x, y) => x - y);
      assert.deepEqual(all, [...Array(200).keys()], 'each event exactly once across members');
      assert.ok(m1.length > 0 && m2.length > 0, `both members worked (${m1.length}/${m2.length})`);
      await Promise.all([s1.close(), s2.close()]);
      await second.close();
    });

    it('redelivers an event whose handler failed, until it succeeds', async () => {
      const attempts: number[] = [];
      const sub = await bus.subscribe({
        group: 'retry',
        from: 'new',
        types: ['live.viewers.updated.v1'],
        handler: async (_e, ctx) => {
          attempts.push(ctx.attempt);
          if (ctx.attempt < 3) throw new Error('not yet');
        },
      });
      await bus.publish('live.viewers.updated.v1', viewers('r', 1));
      await waitFor(() => attempts.length === 3, { what: 'three attempts', timeoutMs: 10_000 });
      await sleep(500);
      assert.deepEqual(attempts, [1, 2, 3]);
      await sub.close();
    });

    it('redelivers an event whose handler never acknowledges within the ack wait', async () => {
      const attempts: number[] = [];
      const sub = await bus.subscribe({
        group: 'hang',
        from: 'new',
        ackWaitMs: 1000,
        types: ['live.viewers.updated.v1'],
        handler: async (_e, ctx) => {
          attempts.push(ctx.attempt);
          if (ctx.attempt === 1) await sleep(2500);
        },
      });
      await bus.publish('live.viewers.updated.v1', viewers('h', 1));
      await waitFor(() => attempts.includes(2), {
        what: 'redelivery after ack wait',
        timeoutMs: 10_000,
      });
      await sub.close();
    });

    it('replays from a point in time for a new group', async () => {
      await bus.publish('live.viewers.updated.v1', viewers('replay-before', 1));
      await sleep(50);
      const from = new Date();
      await sleep(50);
      await bus.publish('live.viewers.updated.v1', viewers('replay-after', 2));
      await bus.publish('live.viewers.updated.v1', viewers('replay-after', 3));
      const got: string[] = [];
      const sub = await bus.subscribe({
        group: 'replayer',
        from,
        types: ['live.viewers.updated.v1'],
        handler: async (e) => void got.push(`${e.data.channel}:${e.data.viewers}`),
      });
      await waitFor(() => got.length >= 2, { what: 'replayed events' });
      await sleep(200);
      assert.deepEqual(got, ['replay-after:2', 'replay-after:3']);
      await sub.close();
    });

    it('keeps events for a group while no member runs, and delivers them when one returns', async () => {
      const first: number[] = [];
      const s1 = await bus.subscribe({
        group: 'durable',
        from: 'new',
        types: ['live.viewers.updated.v1'],
        handler: async (e) => void first.push(e.data.viewers),
      });
      await bus.publish('live.viewers.updated.v1', viewers('d', 0));
      await waitFor(() => first.length === 1, { what: 'first delivery' });
      await s1.close();

      const publisher = factory.crossProcess ? await factory.open('publisher') : bus;
      for (let i = 1; i <= 5; i++)
        await publisher.publish('live.viewers.updated.v1', viewers('d', i));
      if (publisher !== bus) await publisher.close();

      const comeback = factory.crossProcess ? await factory.open('comeback') : bus;
      const later: number[] = [];
      const s2 = await comeback.subscribe({
        group: 'durable',
        types: ['live.viewers.updated.v1'],
        handler: async (e) => void later.push(e.data.viewers),
      });
      await waitFor(() => later.length >= 5, { what: 'events published while down' });
      await sleep(200);
      assert.deepEqual(later, [1, 2, 3, 4, 5]);
      await s2.close();
      if (comeback !== bus) await comeback.close();
    });

    it('gives every broadcast subscriber each new event', async () => {
      const other = await factory.open('replica-2');
      const a: number[] = [];
      const b: number[] = [];
      const s1 = await bus.subscribe({
        types: ['live.viewers.updated.v1'],
        handler: async (e) => void a.push(e.data.viewers),
      });
      const s2 = await other.subscribe({
        types: ['live.viewers.updated.v1'],
        handler: async (e) => void b.push(e.data.viewers),
      });
      await sleep(100);
      for (let i = 0; i < 10; i++) await bus.publish('live.viewers.updated.v1', viewers('bc', i));
      await waitFor(() => a.length === 10 && b.length === 10, { what: 'broadcast to both' });
      assert.deepEqual(a, [...Array(10).keys()]);
      assert.deepEqual(b, [...Array(10).keys()]);
      await Promise.all([s1.close(), s2.close()]);
      await other.close();
    });

    it('replays to a broadcast given a point in time what was published since', async () => {
      await bus.publish('live.viewers.updated.v1', viewers('replay', 1));
      await sleep(50);
      const since = new Date();
      await sleep(50);
      await bus.publish('live.viewers.updated.v1', viewers('replay', 2));
      const seen: number[] = [];
      const sub = await bus.subscribe({
        types: ['live.viewers.updated.v1'],
        from: since,
        handler: async (e) => {
          if (e.data.channel === 'replay') seen.push(e.data.viewers);
        },
      });
      await bus.publish('live.viewers.updated.v1', viewers('replay', 3));
      await waitFor(() => seen.length >= 2, { what: 'the replayed and the new event' });
      await sleep(100);
      assert.deepEqual(seen, [2, 3]);
      await sub.close();
    });

    it("reports a durable group's lag (waiting plus unacknowledged), and none once it caught up", async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const sub = await bus.subscribe({
        group: 'lagging',
        from: 'new',
        types: ['live.viewers.updated.v1'],
        handler: () => gate,
      });
      const broadcast = await bus.subscribe({
        types: ['live.viewers.updated.v1'],
        handler: async () => undefined,
      });
      for (let i = 1; i <= 3; i++) await bus.publish('live.viewers.updated.v1', viewers('lag', i));
      await waitFor(async () => (await bus.pending()).get('lagging') === 3, {
        what: 'three events pending',
      });
      assert.ok(
        [...(await bus.pending()).keys()].every((g) => !g.startsWith('_')),
        'broadcast subscriptions are not groups',
      );
      release();
      await waitFor(async () => (await bus.pending()).get('lagging') === 0, {
        what: 'caught up',
      });
      await broadcast.close();
      await sub.close();
    });

    it('processes a redelivered event once with handleOnce', async () => {
      const db = await openPglite();
      await migrate(db, 'demo', [{ id: '0001', up: 'CREATE TABLE demo.counter (n int NOT NULL)' }]);
      await db.query('INSERT INTO demo.counter VALUES (0)');
      const attempts: number[] = [];
      const sub = await bus.subscribe({
        group: 'once',
        from: 'new',
        types: ['live.viewers.updated.v1'],
        handler: async (e, ctx) => {
          attempts.push(ctx.attempt);
          await handleOnce(db, 'demo', 'once', e.id, async (q) => {
            await q.query('UPDATE demo.counter SET n = n + 1');
          });
          // Acknowledgement lost after the work was done: the bus redelivers.
          if (ctx.attempt === 1) throw new Error('ack lost');
        },
      });
      await bus.publish('live.viewers.updated.v1', viewers('o', 1));
      await waitFor(() => attempts.length === 2, { what: 'redelivery' });
      await sleep(200);
      assert.equal((await db.query<{ n: number }>('SELECT n FROM demo.counter'))[0]!.n, 1);
      await sub.close();
      await db.close();
    });
  });
}
