// The long fuzz run of the RTMP session (the suite runs 100,000 inputs).
//   npx tsx scripts/fuzz-rtmp.ts [inputs=1000000] [seed=random]
// Exits 1 and writes a reproducer (input bytes + read slices) when a rule breaks.
import { writeFileSync } from 'node:fs';
import { fuzzRtmp } from '@neon/rtmp/testing';

const iterations = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Math.floor(Math.random() * 0xffffffff));
if (!Number.isInteger(iterations) || iterations <= 0 || !Number.isInteger(seed)) {
  process.stderr.write('usage: tsx scripts/fuzz-rtmp.ts [inputs] [seed]\n');
  process.exit(2);
}

const started = process.hrtime.bigint();
const report = fuzzRtmp({
  iterations,
  seed,
  progress: (done) => {
    if (done % 100_000 === 0) process.stdout.write(`${done} inputs\n`);
  },
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const { firstFailure, ...summary } = report;
process.stdout.write(
  `${JSON.stringify({ seed, seconds: Math.round(seconds * 10) / 10, perSecond: Math.round(report.inputs / seconds), ...summary }, null, 2)}\n`,
);
if (firstFailure) {
  const file = `rtmp-fuzz-failure-${seed}.json`;
  writeFileSync(
    file,
    JSON.stringify({
      reason: firstFailure.reason,
      slices: firstFailure.slices,
      input: firstFailure.input.toString('base64'),
    }),
  );
  process.stderr.write(`rule broken: ${firstFailure.reason}\nreproducer: ${file}\n`);
  process.exit(1);
}
