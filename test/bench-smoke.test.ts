import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'mocha';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs `bench/run.ts --smoke` once so that the benchmark cannot rot: every row must come out
 * with numbers. Timings are never asserted here (a loaded CI machine makes them meaningless);
 * only what must hold whatever the speed: the guard adds no Redis command, the memory store
 * empties once its TTLs pass.
 */
describe('npm run bench -- --smoke', function () {
  // Two pairs of app processes, Redis and a memory-store process start and stop in it.
  this.timeout(180_000);

  it('produces every row of the benchmark and writes no BENCHMARKS.md', async () => {
    const benchmarks = new URL('../BENCHMARKS.md', import.meta.url);
    const before = (() => {
      try {
        return statSync(benchmarks).mtimeMs;
      } catch {
        return undefined;
      }
    })();

    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke'], {
      cwd: root,
      timeout: 170_000,
      maxBuffer: 4 << 20,
    });

    for (const row of [
      /^1 +\| verified GET \/api\/me: requests per CPU second of the app/m,
      /^1 +\| control: a second app without the bundle, same measure/m,
      /^1 +\| verified GET \/api\/me: req\/s, wall clock/m,
      /^1 +\| verified GET \/api\/me: p99 latency/m,
      /^2 +\| Redis commands per verified request/m,
      /^3 +\| sign-ins per CPU second of the app, PBKDF2 password check/m,
      /^3 +\| sign-ins\/s, wall clock, PBKDF2 password check/m,
      /^3 +\| sign-ins per CPU second of the app, plain password check +\|.*, to the floor /m,
      /^3 +\| the same four requests without the second factor's work \(the floor\)/m,
      /^3 +\| sign-ins\/s, wall clock, plain password check/m,
      /^3 +\| per sign-in, password \+ authenticator code: HTTP requests, Redis round trips, Redis commands/m,
      /^3 +\| per sign-in, password \+ text-message code: the same/m,
      /^4 +\| Redis memory per enrolled person \(200\)/m,
      /^5 +\| MemoryStore heap, 2,000 pending sign-ins/m,
      /^6 +\| reset latency with 1,000 and 10,000 other sessions in Redis/m,
      /^7 +\| dry run of "required for everyone" over 2,000 people in Redis/m,
    ]) {
      assert.match(stdout, row);
    }

    const line = stdout.split('\n').find((each) => each.startsWith('BENCH_ROWS '));
    assert.ok(line, 'the machine-readable summary');
    type Cost = { requests: number; roundTrips: number; commands: number };
    const rows = JSON.parse(line.slice('BENCH_ROWS '.length)) as {
      smoke: boolean;
      verified: { perCpuSecond: number[]; ratio: number; controlRatio: number; reqPerSecond: number[]; wallRatio: number; p99Ms: number[] };
      commandsPerVerifiedRequest: { baseline: number; bundle: number; extra: number };
      signIns: Record<'pbkdf2' | 'plain', { perCpuSecond: number[]; ratio: number; perSecond: number[]; wallRatio: number }> & {
        redisCommands: number[];
        counted: Record<'password' | 'floor', Cost> & Record<'totp' | 'sms', { bundle: Cost }>;
        floor: { perCpuSecond: number[]; ratio: number; bundleRatio: number };
      };
      dryRun: { people: number; stopped: number; storeRoundTrips: number; redisCommands: number; truncated: boolean };
      redisMemory: { users: number; bytesPerUser: number; usedMemoryPerUser: number };
      passkeyMemory: { users: number; bytesPerUser: number; usedMemoryPerUser: number };
      memoryStore: { pending: number; heap: number[]; entries: number[] };
      reset: { others: number[]; ms: number[]; ratio: number };
    };
    assert.equal(rows.smoke, true);
    const positive = (label: string, values: number[]) => {
      for (const value of values) assert.ok(Number.isFinite(value) && value > 0, `${label}: ${values.join(', ')}`);
    };
    // Wall-clock counts of a half-second window may be 0 on a loaded machine; they must be numbers.
    const numbers = (label: string, values: number[]) => {
      for (const value of values) assert.ok(Number.isFinite(value) && value >= 0, `${label}: ${values.join(', ')}`);
    };
    positive('verified requests per CPU second', rows.verified.perCpuSecond);
    positive('verified ratios', [rows.verified.ratio, rows.verified.controlRatio, rows.verified.wallRatio]);
    positive('verified req/s', rows.verified.reqPerSecond);
    positive('verified p99', rows.verified.p99Ms);
    for (const check of ['pbkdf2', 'plain'] as const) {
      positive(`sign-ins per CPU second (${check})`, [...rows.signIns[check].perCpuSecond, rows.signIns[check].ratio]);
      numbers(`sign-ins/s (${check})`, [...rows.signIns[check].perSecond, rows.signIns[check].wallRatio]);
    }
    positive('floor sign-ins per CPU second, its ratio, the bundle against it', [...rows.signIns.floor.perCpuSecond, rows.signIns.floor.ratio, rows.signIns.floor.bundleRatio]);
    positive('Redis commands per sign-in', rows.signIns.redisCommands);
    positive('Redis bytes per enrolled person', [rows.redisMemory.bytesPerUser, rows.redisMemory.usedMemoryPerUser]);
    positive('Redis bytes per person with a passkey', [rows.passkeyMemory.bytesPerUser, rows.passkeyMemory.usedMemoryPerUser]);
    positive('MemoryStore heap', rows.memoryStore.heap);
    positive('reset latency', [...rows.reset.ms, rows.reset.ratio]);

    // Not timings: these hold on any machine.
    assert.equal(rows.commandsPerVerifiedRequest.baseline, 2, 'express-session: GET and EXPIRE');
    assert.equal(rows.commandsPerVerifiedRequest.extra, 0, 'the guard adds no Redis command');
    assert.equal(rows.redisMemory.users, 200);
    assert.equal(rows.passkeyMemory.users, 200);
    assert.equal(rows.memoryStore.entries[0], 3 * rows.memoryStore.pending, 'three store values per pending sign-in');
    assert.equal(rows.memoryStore.entries[1], 0, 'expired entries leave the memory store');
    assert.deepEqual(rows.reset.others, [1_000, 10_000]);
    // Counts, the same on any machine (test/sign-in-cost.test.ts asserts them step by step).
    assert.deepEqual(rows.signIns.counted.password, { requests: 2, roundTrips: 5, commands: 5 });
    // The floor, in session commands: the login DEL SET SET (Passport's regenerate and save, then
    // the token), the code page GET EXPIRE, the code GET DEL SET (regenerate), the dashboard GET EXPIRE.
    assert.deepEqual(rows.signIns.counted.floor, { requests: 4, roundTrips: 10, commands: 10 });
    assert.deepEqual([rows.signIns.counted.totp.bundle.requests, rows.signIns.counted.totp.bundle.roundTrips], [4, 14]);
    assert.deepEqual([rows.signIns.counted.sms.bundle.requests, rows.signIns.counted.sms.bundle.roundTrips], [4, 16]);
    assert.deepEqual([rows.dryRun.people, rows.dryRun.truncated, rows.dryRun.storeRoundTrips, rows.dryRun.redisCommands], [2_000, false, 4, 4], 'the dry run: one MGET per 500 people, nothing else');

    assert.match(stdout, /smoke run in .* BENCHMARKS\.md not written/);
    const after = (() => {
      try {
        return statSync(benchmarks).mtimeMs;
      } catch {
        return undefined;
      }
    })();
    assert.equal(after, before, 'BENCHMARKS.md untouched');
  });
});
