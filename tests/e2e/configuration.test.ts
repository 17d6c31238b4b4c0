import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { channelsService } from '@neon/channels';
import { chatService } from '@neon/chat';
import { gatewayService } from '@neon/gateway';
import { identityService } from '@neon/identity';
import { liveService } from '@neon/live';
import { notifyService } from '@neon/notify';
import { paymentsService } from '@neon/payments';
import { platformSpec } from '@neon/platform';

// The README promises .env.example names every variable with a comment; an operator reads it, not the code.
test('.env.example documents every variable the platform and the services read', () => {
  const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));
  const specs = [
    platformSpec,
    gatewayService.spec,
    identityService.spec,
    channelsService.spec,
    liveService.spec,
    chatService.spec,
    notifyService.spec,
    paymentsService.spec,
  ];
  const missing = specs
    .flatMap((spec) => Object.keys(spec))
    .filter((name) => !documented.has(name));
  assert.deepEqual([...new Set(missing)], []);
});
