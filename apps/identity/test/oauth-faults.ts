import type { Db, Queryable } from '@neon/db';
import type { Logger } from '@neon/kit';

/** What a database error may say that no client should ever read. */
export const INTERNAL_DETAIL = 'relation "identity.oauth_secret_internals" does not exist';

interface Gate {
  pattern: RegExp;
  count: number;
  first: RegExp | undefined;
  waiting: { text: string; go: () => Promise<void> }[];
}

/**
 * `db`, but the queries whose SQL matches the pattern given to `failOn` fail as
 * a broken database would (in a transaction too), but for the first `spared`
 * of them, until `failOn(null)`; and after `gate`, the next `count` queries
 * matching its pattern wait for each other (two requests racing, made to
 * meet), then run one after the other, those matching `first` first.
 */
export function faultyDb(db: Db): {
  db: Db;
  failOn(pattern: RegExp | null, spared?: number): void;
  gate(pattern: RegExp, count: number, first?: RegExp): void;
} {
  let failing: RegExp | null = null;
  let spare = 0;
  let gates: Gate[] = [];
  const open = async (gate: Gate) => {
    gates = gates.filter((g) => g !== gate);
    const order = [...gate.waiting].sort(
      (a, b) => Number(gate.first?.test(b.text) ?? 0) - Number(gate.first?.test(a.text) ?? 0),
    );
    for (const w of order) await w.go();
  };
  const guard =
    (q: Queryable): Queryable['query'] =>
    async (text, params) => {
      if (failing?.test(text) && spare-- <= 0) throw new Error(INTERNAL_DETAIL);
      const gate = gates.find((g) => g.pattern.test(text));
      if (!gate) return q.query(text, params);
      let ran!: () => void;
      const done = new Promise<void>((resolve) => (ran = resolve));
      await new Promise<void>((resolve) => {
        gate.waiting.push({ text, go: () => (resolve(), done) });
        // Should the others never come (a broken server), the test fails rather than hangs.
        if (gate.waiting.length < gate.count) setTimeout(() => void open(gate), 3000).unref();
        else void open(gate);
      });
      try {
        return await q.query(text, params);
      } finally {
        ran();
      }
    };
  const wrapped: Db = {
    kind: db.kind,
    query: guard(db),
    tx: (fn) => db.tx((q) => fn({ query: guard(q) })),
    ping: () => db.ping(),
    close: () => db.close(),
  };
  return {
    db: wrapped,
    failOn(pattern, spared = 0) {
      failing = pattern;
      spare = spared;
    },
    gate(pattern, count, first) {
      gates.push({ pattern, count, first, waiting: [] });
    },
  };
}

/**
 * The error lines logged from now on through `logger` or any of its children
 * (pino children inherit their parent's methods), as `[fields, message]`.
 */
export function loggedErrors(logger: Logger): [Record<string, unknown>, string][] {
  const lines: [Record<string, unknown>, string][] = [];
  (logger as unknown as { error: (fields: Record<string, unknown>, msg: string) => void }).error = (
    fields,
    msg,
  ) => {
    lines.push([fields, msg]);
  };
  return lines;
}
