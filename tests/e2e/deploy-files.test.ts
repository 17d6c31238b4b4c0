import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseDocument } from 'yaml';
import type { TSchema } from 'typebox';
import { channelsService } from '@neon/channels';
import { chatService } from '@neon/chat';
import { gatewayService } from '@neon/gateway';
import { identityService } from '@neon/identity';
import { liveService } from '@neon/live';
import { notifyService } from '@neon/notify';
import { paymentsService } from '@neon/payments';
import { platformSpec } from '@neon/platform';

// The Dockerfile, its entrypoint and deploy/compose.yaml, checked without a
// container engine (none runs on the machines this suite runs on): what an
// image would run, and that every name the deployment files use is one the
// code reads. A misspelt variable is otherwise silently ignored by the service.

const root = new URL('../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');

const modules: Record<string, { spec: Record<string, TSchema> }> = {
  gateway: gatewayService,
  identity: identityService,
  channels: channelsService,
  live: liveService,
  chat: chatService,
  notify: notifyService,
  payments: paymentsService,
};
const services = Object.keys(modules).sort();
function defaultOf(spec: Record<string, TSchema>, name: string): unknown {
  const schema = spec[name];
  return schema && 'default' in schema ? schema.default : undefined;
}
const declared = (service: string) =>
  new Set([...Object.keys(platformSpec), ...Object.keys(modules[service]!.spec)]);

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
}

function loadCompose(): Record<string, ComposeService> {
  const doc = parseDocument(read('deploy/compose.yaml'), { merge: true });
  assert.deepEqual(
    doc.errors.map((e) => e.message),
    [],
    'deploy/compose.yaml is valid YAML',
  );
  const compose = doc.toJS() as { services?: Record<string, ComposeService> };
  assert.ok(compose.services, 'deploy/compose.yaml has services');
  return compose.services;
}
const compose = loadCompose();
const neonImage = compose.gateway?.image;
const neonEntries = Object.entries(compose).filter(([, s]) => s.image === neonImage);
const replicasOf = (service: string) =>
  neonEntries.filter(([, s]) => s.command?.[0] === service).map(([name]) => name);

// What `docker run <image> <args>` runs: the Dockerfile's ENTRYPOINT then CMD.
const dockerfile = read('Dockerfile');
function instruction(name: string): string[] {
  const lines = dockerfile.match(new RegExp(`^${name}\\s+(\\[.*\\])\\s*$`, 'gm'));
  assert.equal(lines?.length, 1, `one ${name} in exec form`);
  return JSON.parse(lines[0].slice(name.length).trim()) as string[];
}
/** Paths the image holds under its WORKDIR, as paths in this repository. */
const inRepo = (args: string[]) =>
  args.filter((a) => a.startsWith('/app/')).map((a) => a.slice('/app/'.length));

// A stand-in `node` on the PATH prints where it was started and its arguments,
// so the entrypoint can be run for real without starting a service.
const scratch = mkdtempSync(join(tmpdir(), 'neon-entrypoint-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
writeFileSync(join(scratch, 'node'), '#!/bin/sh\nprintf "%s\\n" "$PWD" "$@"\n', { mode: 0o755 });
function entrypoint(...args: string[]) {
  const run = spawnSync('sh', [join(root, 'scripts/docker-entrypoint.sh'), ...args], {
    cwd: tmpdir(),
    env: { PATH: `${scratch}:${process.env.PATH ?? ''}`, TMPDIR: scratch },
    encoding: 'utf8',
  });
  const [cwd, ...argv] = run.stdout.trimEnd().split('\n');
  return { status: run.status, stderr: run.stderr, cwd: cwd ?? '', argv };
}

/** The node arguments of `npm run <script>`: `... && exec node <arguments>`. */
function npmScriptNodeArgs(script: string): string[] {
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  const line = scripts[script];
  assert.ok(line, `package.json has the script ${script}`);
  const tail = line.match(/exec node (.+)$/)?.[1];
  assert.ok(tail, `${script} ends in exec node`);
  return tail.split(/\s+/);
}

describe('the image', () => {
  test('the services the image runs are the apps with a main, each with its npm start script', () => {
    const apps = readdirSync(join(root, 'apps'))
      .filter((a) => existsSync(join(root, 'apps', a, 'src', 'main.ts')))
      .sort();
    assert.deepEqual(apps, services);
    for (const s of services) npmScriptNodeArgs(`start:${s}`);
  });

  test('ENTRYPOINT and HEALTHCHECK run an executable script of this repository', () => {
    const entry = instruction('ENTRYPOINT');
    const health = dockerfile.match(/^HEALTHCHECK .*\\\n\s*CMD\s+(\[.*\])\s*$/m);
    assert.ok(health, 'HEALTHCHECK in exec form');
    const scripts = [...inRepo(entry), ...inRepo(JSON.parse(health[1]!) as string[])];
    assert.ok(inRepo(entry).length > 0, `ENTRYPOINT ${entry.join(' ')} names a script`);
    for (const script of scripts) {
      assert.ok(existsSync(join(root, script)), `${script} exists`);
      accessSync(join(root, script), constants.X_OK);
      assert.ok(statSync(join(root, script)).mode & 0o111, `${script} is executable`);
      assert.match(
        dockerfile,
        new RegExp(`^COPY .*/app/${script} \\./${script}$`, 'm'),
        `the image copies ${script} where ENTRYPOINT looks for it`,
      );
    }
    assert.deepEqual(instruction('CMD'), ['embedded']);
  });

  test('each service name runs what its npm start script runs, from the image root', () => {
    for (const s of services) {
      const run = entrypoint(s);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.cwd.replace(/\/$/, ''), root.replace(/\/$/, ''));
      assert.deepEqual(run.argv, npmScriptNodeArgs(`start:${s}`), s);
    }
    assert.deepEqual(entrypoint('embedded').argv, npmScriptNodeArgs('start'));
    assert.deepEqual(entrypoint('neon', 'admin', 'grant', 'ada').argv, [
      ...npmScriptNodeArgs('neon'),
      'admin',
      'grant',
      'ada',
    ]);
  });

  test('an unknown or missing name is refused with a message, before anything runs', () => {
    for (const args of [['identiy'], [], ['--help']]) {
      const run = entrypoint(...args);
      assert.equal(run.status, 64, `exit status for ${args.join(' ') || 'no name'}`);
      assert.deepEqual(run.argv, []);
      assert.match(run.stderr, args[0] ? /Unknown service "/ : /Name what to run/);
      for (const s of services) assert.ok(run.stderr.includes(s), `the usage lists ${s}`);
    }
  });

  test('the health check asks the port each service listens on by default', () => {
    for (const s of [...services, 'embedded']) {
      assert.equal(entrypoint(s).status, 0);
      const check = entrypoint('healthcheck');
      assert.equal(check.status, 0, check.stderr);
      const url = check.argv.join(' ').match(/http:\/\/127\.0\.0\.1:(\d+)\/healthz/);
      assert.ok(url, `a /healthz request for ${s}: ${check.argv.join(' ')}`);
      const [spec, variable] =
        s === 'embedded'
          ? [gatewayService.spec, 'GATEWAY_PORT']
          : [modules[s]!.spec, `${s.toUpperCase()}_PORT`];
      assert.equal(Number(url[1]), defaultOf(spec, variable), `${s}: ${variable}`);
    }
  });

  test('every variable the Dockerfile sets is one the code reads', () => {
    const all = new Set(services.flatMap((s) => [...declared(s)]));
    const blocks = [...dockerfile.matchAll(/^ENV ((?:.*\\\n)*.*)$/gm)].map((m) => m[1]!);
    const names = blocks.flatMap((b) => [...b.matchAll(/([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1]!));
    assert.ok(names.length > 0, 'the Dockerfile sets variables');
    assert.deepEqual(
      names.filter((n) => !all.has(n)),
      [],
    );
  });

  test('the runtime stage copies sources that exist, and the web build where the gateway serves it from', () => {
    const copies = [...dockerfile.matchAll(/^COPY --from=build (?:--\S+ )*\/app\/(\S+) (\S+)$/gm)];
    assert.ok(copies.length > 0);
    // dist/ and apps/web/dist/ are what the build stage makes; the rest is checked in.
    const built = new Set(['dist', 'apps/web/dist']);
    for (const [, from] of copies) {
      assert.ok(built.has(from!) || existsSync(join(root, from!)), `${from} exists`);
    }
    const web = copies.find(([, from]) => from === 'apps/web/dist');
    assert.equal(web?.[2], `./${String(defaultOf(gatewayService.spec, 'WEB_ROOT'))}`);
  });
});

describe('deploy/compose.yaml', () => {
  test('every Neon container runs a service the entrypoint accepts', () => {
    assert.ok(neonEntries.length > 0);
    for (const [name, s] of neonEntries) {
      assert.equal(s.command?.length, 1, `${name} names one service`);
      assert.ok(services.includes(s.command[0]!), `${name} runs ${s.command.join(' ')}`);
    }
  });

  test('one gateway, and two replicas or more of each service', () => {
    for (const s of services) {
      const count = replicasOf(s).length;
      const names = `${s}: ${replicasOf(s).join(', ')}`;
      if (s === 'gateway') assert.equal(count, 1, names);
      else assert.ok(count >= 2, names);
    }
  });

  test('every variable set on a service is declared in its config schema', () => {
    for (const [name, s] of neonEntries) {
      const known = declared(s.command![0]!);
      const unknown = Object.keys(s.environment ?? {}).filter((v) => !known.has(v));
      assert.deepEqual(unknown, [], `${name} sets variables ${s.command![0]} does not read`);
    }
  });

  test("the gateway's upstream lists name every replica on the port it listens on", () => {
    const env = compose.gateway!.environment ?? {};
    for (const s of services.filter((x) => x !== 'gateway')) {
      const variable = `${s.toUpperCase()}_URL`;
      assert.ok(variable in gatewayService.spec, variable);
      const urls = String(env[variable] ?? '')
        .split(',')
        .map((u) => new URL(u));
      assert.deepEqual(urls.map((u) => u.hostname).sort(), replicasOf(s).sort(), variable);
      for (const url of urls) {
        const port = `${s.toUpperCase()}_PORT`;
        const listens =
          compose[url.hostname]!.environment?.[port] ?? defaultOf(modules[s]!.spec, port);
        assert.equal(Number(url.port), Number(listens), `${variable}: ${url.hostname}`);
      }
    }
  });

  test("each live replica advertises the URL the gateway's LIVE_URL names it by", () => {
    const named = String(compose.gateway!.environment?.LIVE_URL ?? '').split(',');
    const advertised = replicasOf('live').map(
      (entry) => compose[entry]!.environment?.LIVE_ADVERTISE_URL,
    );
    assert.deepEqual(advertised.sort(), named.sort());
  });

  test('the gateway publishes its HTTP port and live its RTMP port', () => {
    const target = (entry: string, spec: Record<string, TSchema>, variable: string) => {
      const published = (compose[entry]!.ports ?? []).map((p) => Number(p.split(':').at(-1)));
      assert.deepEqual(published, [defaultOf(spec, variable)], `${entry} publishes ${variable}`);
    };
    target('gateway', gatewayService.spec, 'GATEWAY_PORT');
    for (const entry of replicasOf('live')) target(entry, liveService.spec, 'RTMP_PORT');
    for (const s of services.filter((x) => x !== 'gateway' && x !== 'live')) {
      for (const entry of replicasOf(s)) assert.equal(compose[entry]!.ports, undefined, entry);
    }
  });

  test('secrets come from deploy/.env, and deploy/.env.example names every variable used', () => {
    const text = read('deploy/compose.yaml');
    const example = read('deploy/.env.example');
    const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    const used = new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
    assert.deepEqual(
      [...used].filter((v) => !documented.has(v)),
      [],
    );
    for (const [name, s] of Object.entries(compose)) {
      for (const [variable, value] of Object.entries(s.environment ?? {})) {
        if (!/SECRET|PASSWORD/.test(variable) || variable.startsWith('STRIPE_')) continue;
        assert.match(
          String(value),
          /^\$\{[A-Z0-9_]+:\?[^}]+\}$/,
          `${name}: ${variable} is required from the env file`,
        );
      }
    }
  });
});
