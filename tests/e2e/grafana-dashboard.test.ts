import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@neon/testing';
import { startEmbedded, type Embedded } from '../../launcher/src/embedded.js';

// The dashboard an operator imports (docs/grafana/neon.json) reads metrics by
// name: a metric renamed or dropped in the code leaves a panel empty without
// any error. Every name its queries use must be one the platform exposes.

interface Panel {
  type: string;
  title: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: unknown; definition?: string }[] };
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../docs/grafana/neon.json', import.meta.url), 'utf8'),
) as Dashboard;

// PromQL words that look like a metric name and are not one.
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression reads (functions, labels, strings and ranges set aside). */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings: label values, regexes
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // label lists
    .replace(/\$\{?\w+\}?/g, ''); // dashboard variables
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const next = stripped.slice(m.index + word.length).trimStart();
    if (next.startsWith('(')) continue; // a function or aggregation
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');
const queries = panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })),
);
const variableQueries = dashboard.templating.list
  .filter((v) => v.type === 'query')
  // label_values(<series>, <label>): the second argument is a label, not a metric.
  .map((v) => ({
    panel: `variable ${v.name}`,
    expr: (v.definition ?? '').replace(/^label_values\((.*),\s*\w+\)$/, '$1'),
  }));

/** `# TYPE name kind` lines of an exposition: what is declared, with or without samples yet. */
function exposed(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** Whether `name` is a series of a declared metric: itself, or a histogram's or summary's parts. */
function isExposed(name: string, types: Map<string, string>): boolean {
  if (types.has(name)) return true;
  const parts = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!parts) return false;
  const kind = types.get(parts[1]!);
  return kind === 'histogram' || (kind === 'summary' && parts[2] !== 'bucket');
}

describe('the Grafana dashboard (docs/grafana/neon.json)', () => {
  it('is a dashboard of the rows the deploy guide describes, each panel with a query', () => {
    assert.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    assert.deepEqual(rows, ['Traffic', 'Live', 'Chat', 'Webhooks & bus', 'Processes']);
    for (const p of panels) assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
    const source = dashboard.templating.list.find((v) => v.type === 'datasource');
    assert.equal(source?.query, 'prometheus');
  });

  it('reads names out of PromQL as Prometheus does', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket{service=~"$service", status=~"5.."}[$__rate_interval])))',
      ),
      ['http_request_duration_seconds_bucket'],
    );
    assert.deepEqual(
      metricNames('sum(rate(a_total[5m])) / on (job) group_left max by (x) (b) * 8 and c_total'),
      ['a_total', 'b', 'c_total'],
    );
    for (const q of [...queries, ...variableQueries])
      assert.ok(metricNames(q.expr).length > 0, `${q.panel}: a metric in ${q.expr}`);
  });

  describe('against the running platform', () => {
    let neon: Embedded;
    let dataDir: string;
    let types: Map<string, string>;
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'neon-dashboard-'));
      neon = await startEmbedded({
        LOG_LEVEL: 'warn',
        DATA_DIR: dataDir,
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        RTMP_HOST: '127.0.0.1',
        RTMP_PORT: '0',
        METRICS_PORT: String(await freePort()),
      });
      // One request, so the HTTP histogram has series as well as its declaration.
      await (await fetch(`${neon.url}/healthz`)).arrayBuffer();
      const res = await fetch(neon.metricsUrl);
      assert.equal(res.status, 200);
      types = exposed(await res.text());
    });
    after(async () => {
      await neon.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('uses only metrics the services expose', () => {
      const missing: string[] = [];
      for (const q of [...queries, ...variableQueries])
        for (const name of metricNames(q.expr))
          if (!isExposed(name, types)) missing.push(`${name} (${q.panel})`);
      assert.deepEqual(missing, [], 'metrics the dashboard reads that no service exposes');
    });
  });
});
