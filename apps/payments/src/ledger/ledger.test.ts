import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { migrate, type Db } from '@neon/db';
import { dbVariants } from '@neon/testing';
import { migrations } from '../db/migrations/index.js';
import { accounts, balance, ledgerTotal, postTransaction } from './ledger.repository.js';
import { runPayouts } from './payout.service.js';

for (const variant of dbVariants()) {
  describe(`ledger and payouts on ${variant.name}`, { skip: variant.skip }, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ db, cleanup } = await variant.open());
      await migrate(db, 'payments', migrations);
    });
    after(() => cleanup());

    const pay = (key: string, channelId: string, amount: number) =>
      db.tx((q) =>
        postTransaction(q, {
          key,
          kind: 'payment',
          channelId,
          subscriptionId: null,
          currency: 'usd',
          lines: [
            { account: accounts.provider('stripe'), amount },
            { account: accounts.platformRevenue, amount: -Math.trunc(amount / 2) },
            { account: accounts.streamer(channelId), amount: -(amount - Math.trunc(amount / 2)) },
          ],
        }),
      );

    it('posts a transaction once per key and balances to zero', async () => {
      assert.equal(await pay('payment:stripe:in_1', 'c1', 999), true);
      assert.equal(await pay('payment:stripe:in_1', 'c1', 999), false);
      assert.equal(await balance(db, accounts.streamer('c1')), -500);
      assert.equal(await ledgerTotal(db), 0);
    });

    it('refuses an unbalanced transaction and stores none of it', async () => {
      await assert.rejects(
        db.tx((q) =>
          postTransaction(q, {
            key: 'bad',
            kind: 'payment',
            channelId: 'c1',
            subscriptionId: null,
            currency: 'usd',
            lines: [{ account: accounts.platformRevenue, amount: 1 }],
          }),
        ),
        /does not balance/,
      );
      assert.equal(await ledgerTotal(db), 0);
    });

    it('the monthly run pays what was owed before the month, and a second run pays nothing', async () => {
      await pay('payment:stripe:in_2', 'c2', 2499);
      const next = new Date(Date.now() + 40 * 86_400_000);
      const first = await runPayouts(db, next);
      assert.deepEqual(first, { paid: 2, total: 500 + 1250 });
      assert.deepEqual(await runPayouts(db, next), { paid: 0, total: 0 });
      assert.equal(await balance(db, accounts.streamer('c1')), 0);
      assert.equal(await balance(db, accounts.streamer('c2')), 0);
      assert.equal(await balance(db, accounts.payouts), -1750);
      assert.equal(await ledgerTotal(db), 0);
    });
  });
}
