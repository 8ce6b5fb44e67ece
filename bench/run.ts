import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createClient, type RedisClientType } from 'redis';
import { startRedis } from '../test/helpers/redis.js';
import { signIns, type FlowResult } from './flow.js';
import { startBenchServer } from './servers.js';
import { enrolTemplateUser, enrolUsers, type EnrolledUser, type EnrolmentTemplate } from './users.js';
import { commandStats, isBenchCommand, load, verifiedSessions, type LoadResult } from './verified.js';
import { resetLatencies, type ResetLatency } from './reset.js';
import { passkeyMemory, type PasskeyMemory } from './passkey-memory.js';
import { extractBefore, BEFORE_REVISION } from './before.js';
import { countedSignIns, type CountedSignIns, type SignInCost } from './counted.js';
import { dryRunBench, type DryRunBenchResult } from './dry-run.js';

/**
 * `npm run bench`: the second factor's cost against the same app without it, measured in one
 * run on loopback with a real redis-server (started here), each app in a child process of its
 * own and the load generated from this one. Prints a table and writes BENCHMARKS.md.
 * `npm run bench -- --smoke` (or BENCH_SMOKE=1): a very short run, no targets, no file.
 */
const run = promisify(execFile);
const smoke = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';
// flowPool: the people row 3's apps with a code step take, each signing in once (TOTP's replay
// rule). A full run's warm-up and plain-check rounds take about 20,000 of them at this
// machine's rates (150-300 sign-ins/s per app): twice that, as enrolling is quick.
const plan = smoke
  ? { connections: 4, warmupSeconds: 0.3, rounds: 2, roundSeconds: 0.5, commandSample: 200, flowConcurrency: 2, flowRounds: 1, flowSeconds: 0.5, flowWarmupSeconds: 0.5, pbkdf2Rounds: 1, pbkdf2Seconds: 2, flowPool: 1_000, commandSignIns: 4, enrolled: 200, pending: 2_000, pendingTtl: 1, resetOthers: [1_000, 10_000], resetRepeats: 3, dryRunPeople: 2_000, dryRunRuns: 1 }
  : { connections: 32, warmupSeconds: 3, rounds: 40, roundSeconds: 1, commandSample: 5_000, flowConcurrency: 16, flowRounds: 3, flowSeconds: 4, flowWarmupSeconds: 15, pbkdf2Rounds: 4, pbkdf2Seconds: 4, flowPool: 40_000, commandSignIns: 50, enrolled: 10_000, pending: 100_000, pendingTtl: 3, resetOthers: [1_000, 1_000_000], resetRepeats: 7, dryRunPeople: 10_000, dryRunRuns: 5 };

const ENCRYPTION_KEY = 'b'.repeat(64);
type Client = RedisClientType<any, any, any, any, any>;
type Variant = 'bundle' | 'baseline';
/**
 * The apps of row 3: with the bundle, without it, the package as it was before #16, and the
 * floor (the bundle's four requests with none of its work: bench/app.ts mountFloor).
 */
type FlowVariant = Variant | 'before' | 'floor';
type FlowServers = Record<Variant, App> & { before?: App; floor?: App };
type FlowRound = Partial<Record<FlowVariant, FlowResult & Measured>>;

const log = (message: string) => console.error(`bench: ${message}`);
const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length === 0 ? 0 : Number.isInteger(middle) ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[Math.floor(middle)]!;
};
/** Lets requests still in flight (and their Redis commands) finish before a counter is read. */
const settle = () => sleep(500);

/** One round of one app: what it served, over how many wall seconds, and its own CPU time. */
interface Measured {
  /** Requests, or sign-ins, served (all of them, for the CPU figure). */
  readonly served: number;
  /** served per wall second, as the load generator saw it (in its measured window). */
  readonly perSecond: number;
  /** CPU seconds of the app process (all threads) over the round. */
  readonly cpuSeconds: number;
}

interface Compared<T extends Measured> {
  readonly baseline: T;
  readonly bundle: T;
  /** Requests (or sign-ins) per CPU second of the app process, over all rounds. */
  readonly capacity: { readonly baseline: number; readonly bundle: number };
  /** Median over rounds of (with bundle ÷ without), per CPU second; lowest and highest round. */
  readonly ratio: number;
  readonly spread: readonly [number, number];
  /** The same from wall-clock throughput. */
  readonly wallRatio: number;
  readonly wallSpread: readonly [number, number];
}

interface Results {
  readonly verified: Compared<LoadResult & Measured>;
  /** A second app without the bundle against the first: the noise floor of row 1. */
  readonly control: Compared<LoadResult & Measured>;
  readonly commands: { readonly baseline: Map<string, number>; readonly bundle: Map<string, number> };
  readonly flow: Record<'pbkdf2' | 'plain', Compared<FlowResult & Measured>>;
  /** Row 3 with the package as it was before #16 against the app without it (full runs only). */
  readonly flowBefore: Compared<FlowResult & Measured> | undefined;
  /**
   * Row 3, plain check: the floor against the app without the bundle (the limit of the method),
   * and the bundle against the floor (in `baseline`: what the package's own work costs).
   */
  readonly flowFloor: { readonly floor: Compared<FlowResult & Measured>; readonly bundle: Compared<FlowResult & Measured> };
  readonly counted: CountedSignIns;
  /** Row 7: the dry run of a stricter policy over 10,000 people. */
  readonly dryRun: DryRunBenchResult;
  readonly redisMemory: { readonly users: number; readonly bytesPerUser: number; readonly usedMemoryPerUser: number; readonly keys: readonly string[]; readonly shortLivedKeys: readonly string[]; readonly recordJsonBytes: number; readonly recordFields: readonly string[] };
  readonly passkeyMemory: PasskeyMemory;
  readonly memoryStore: { pending: number; ttlSeconds: number; writeSeconds: number; baseline: number; peak: number; after: number; entriesAtPeak: number; entriesAfter: number };
  /** Row 6: reset latency with few and with many other sessions in Redis. */
  readonly reset: readonly ResetLatency[];
}

function compare<T extends Measured>(rounds: readonly { bundle: T; baseline: T }[], total: (results: T[]) => T): Compared<T> {
  const perCpu = (m: Measured) => m.served / m.cpuSeconds;
  const ratios = rounds.map((round) => ratio(perCpu(round.bundle), perCpu(round.baseline)));
  const wall = rounds.map((round) => ratio(round.bundle.perSecond, round.baseline.perSecond));
  const capacity = (variant: Variant) =>
    rounds.reduce((sum, round) => sum + round[variant].served, 0) / rounds.reduce((sum, round) => sum + round[variant].cpuSeconds, 0);
  return {
    baseline: total(rounds.map((round) => round.baseline)),
    bundle: total(rounds.map((round) => round.bundle)),
    capacity: { baseline: capacity('baseline'), bundle: capacity('bundle') },
    ratio: median(ratios),
    spread: [Math.min(...ratios), Math.max(...ratios)],
    wallRatio: median(wall),
    wallSpread: [Math.min(...wall), Math.max(...wall)],
  };
}

/** autocannon rounds together: requests over seconds; p50 and p99 as the median of the rounds'. */
function totalLoad(rounds: (LoadResult & Measured)[]): LoadResult & Measured {
  const requests = rounds.reduce((sum, r) => sum + r.requests, 0);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  const cpuSeconds = rounds.reduce((sum, r) => sum + r.cpuSeconds, 0);
  return { requests, served: requests, seconds, cpuSeconds, perSecond: requests / seconds, p99Ms: median(rounds.map((r) => r.p99Ms)), p50Ms: median(rounds.map((r) => r.p50Ms)) };
}

function totalFlows(rounds: (FlowResult & Measured)[]): FlowResult & Measured {
  const count = rounds.reduce((sum, r) => sum + r.signIns, 0);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  return {
    signIns: count,
    seconds,
    perSecond: count / seconds,
    requestsPerSignIn: rounds.reduce((sum, r) => sum + r.requestsPerSignIn * r.signIns, 0) / Math.max(1, count),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    usersTaken: rounds.reduce((sum, r) => sum + r.usersTaken, 0),
    served: rounds.reduce((sum, r) => sum + r.served, 0),
    cpuSeconds: rounds.reduce((sum, r) => sum + r.cpuSeconds, 0),
  };
}

/** One app of the bench server process. */
interface App {
  readonly url: string;
  /** CPU seconds of the process the app runs in (loaded one app at a time: this app's). */
  cpuSeconds(): Promise<number>;
}

/** Runs `work` against one app, adding the CPU time its process spent meanwhile. */
async function withCpu<T extends { served: number }>(server: App, work: () => Promise<T>): Promise<T & Measured & { perSecond: number }> {
  const before = await server.cpuSeconds();
  const result = await work();
  const cpuSeconds = (await server.cpuSeconds()) - before;
  return { ...(result as T & { perSecond: number }), cpuSeconds };
}

const totalCommands = (stats: Map<string, number>) => [...stats.values()].reduce((a, b) => a + b, 0);
const describeCommands = (stats: Map<string, number>) =>
  [...stats].sort(([a], [b]) => a.localeCompare(b)).map(([command, n]) => `${command.toUpperCase()} ${fmt(n, 2)}`).join(' + ') || 'none';

let idCounter = 0;
const ids = (prefix: string, n: number) => Array.from({ length: n }, () => `${prefix}${idCounter++}`);
/** People for the app without the bundle: any id signs in there, none needs enrolling. */
const plainUsers = (n: number): EnrolledUser[] => ids('l', n).map((id) => ({ id, secret: '' }));

async function rowsOneAndTwo(redis: Client, servers: Record<Variant | 'control', App>, template: EnrolmentTemplate) {
  log(`rows 1-2: ${plan.connections} verified sessions per app`);
  const cookies: Record<Variant | 'control', string[]> = {
    bundle: await verifiedSessions(servers.bundle.url, await enrolUsers(redis, ENCRYPTION_KEY, template, ids('v', plan.connections), false), true),
    baseline: await verifiedSessions(servers.baseline.url, plainUsers(plan.connections), false),
    control: await verifiedSessions(servers.control.url, plainUsers(plan.connections), false),
  };
  // One app at a time, alone on its CPU and saturated by the load generator, in short batches
  // that alternate (ABC, CBA, …): each ratio compares batches a second or two apart, so slow
  // drifts of the machine fall on all alike, and a disturbance hits one round, which the
  // median then discounts. The control is a second app without the bundle: its ratio to the
  // first shows how far two identical apps differ here, i.e. the noise of the measure.
  const batch = (app: Variant | 'control', seconds: number) =>
    withCpu(servers[app], async () => {
      const result = await load(servers[app].url, cookies[app], { seconds });
      return { ...result, served: result.requests };
    });

  log('rows 1-2: warm-up');
  for (const app of ['bundle', 'baseline', 'control'] as const) await batch(app, plan.warmupSeconds);
  type Round = Record<Variant | 'control', LoadResult & Measured>;
  const rounds: Round[] = [];
  const perCpu = (m: Measured) => m.served / m.cpuSeconds;
  for (let round = 0; round < plan.rounds; round += 1) {
    const order = round % 2 === 0 ? (['bundle', 'baseline', 'control'] as const) : (['control', 'baseline', 'bundle'] as const);
    const result: Partial<Round> = {};
    for (const app of order) result[app] = await batch(app, plan.roundSeconds);
    const { bundle, baseline, control } = result as Round;
    rounds.push({ bundle, baseline, control });
    log(
      `row 1: round ${round + 1}: with / without / control ${fmt(bundle.perSecond)} / ${fmt(baseline.perSecond)} / ${fmt(control.perSecond)} req/s ` +
        `(ratio ${fmt(ratio(bundle.perSecond, baseline.perSecond), 3)}, control ${fmt(ratio(control.perSecond, baseline.perSecond), 3)}), ` +
        `${fmt(1e6 / perCpu(bundle))} / ${fmt(1e6 / perCpu(baseline))} / ${fmt(1e6 / perCpu(control))} µs CPU per request`,
    );
  }

  log(`row 2: INFO commandstats over ${plan.commandSample} verified requests per app`);
  const commands: Record<Variant, Map<string, number>> = { baseline: new Map(), bundle: new Map() };
  for (const variant of ['baseline', 'bundle'] as const) {
    await settle();
    const { commands: perCommand, count } = await countCommands(redis, async () => (await load(servers[variant].url, cookies[variant], { amount: plan.commandSample })).requests);
    commands[variant] = new Map([...perCommand].map(([command, calls]) => [command, calls / count]));
  }
  return {
    verified: compare(rounds, totalLoad),
    control: compare(rounds.map((round) => ({ bundle: round.control, baseline: round.baseline })), totalLoad),
    commands,
  };
}

/** Redis commands by name while `work` runs (INFO commandstats before and after, settled). */
async function countCommands(redis: Client, work: () => Promise<number>): Promise<{ commands: Map<string, number>; count: number }> {
  const before = await commandStats(redis);
  const count = await work();
  await settle();
  const after = await commandStats(redis);
  const commands = new Map<string, number>();
  for (const [command, calls] of after) {
    if (isBenchCommand(command)) continue;
    const delta = calls - (before.get(command) ?? 0);
    if (delta > 0) commands.set(command, delta);
  }
  return { commands, count };
}

/** Row 3's apps in the order of an even round: the app without the bundle last. */
const flowVariants = (servers: FlowServers): FlowVariant[] => [
  'bundle',
  ...(servers.before ? (['before'] as const) : []),
  ...(servers.floor ? (['floor'] as const) : []),
  'baseline',
];

/**
 * One batch of sign-ins on one app of row 3. Every app with a code step takes people from the
 * pool, which is consumed in order (whatever this batch used is cut from it), so that no one
 * signs in twice; the app without the bundle takes any id.
 */
async function signInBatch(servers: FlowServers, variant: FlowVariant, pool: EnrolledUser[], timing: { warmupSeconds: number; seconds: number }) {
  const users = variant === 'baseline' ? plainUsers(100_000) : pool;
  const { warmupSeconds, seconds } = timing;
  const result = await signIns(servers[variant]!.url, users, { concurrency: plan.flowConcurrency, warmupSeconds, seconds, withSecondFactor: variant !== 'baseline' });
  if (variant !== 'baseline') pool.splice(0, result.usersTaken);
  return { ...result, served: result.usersTaken };
}

/**
 * Sign-ins on every app of the row for `seconds` each, measured by nothing. V8 optimizes a code
 * path in its first seconds of use (perf saw about a quarter of the app process's CPU in the
 * optimizing compiler at first, 6 % after 15 s), and the bundle's sign-in paths are far larger
 * than the password-only app's: without this, that compiling falls on the bundle's first batches.
 */
async function warmUpSignIns(servers: FlowServers, pool: EnrolledUser[], seconds: number): Promise<void> {
  log(`row 3: warm-up, ${seconds} s of sign-ins per app, unmeasured`);
  for (const variant of flowVariants(servers)) await signInBatch(servers, variant, pool, { warmupSeconds: 0, seconds });
}

async function rowThree(servers: FlowServers, pool: EnrolledUser[], timing: { rounds: number; seconds: number; warmupSeconds: number }) {
  const variants = flowVariants(servers);
  const results: FlowRound[] = [];
  for (let round = 0; round < timing.rounds; round += 1) {
    // One app at a time, in alternating order, as in row 1. Every sign-in a batch started has
    // ended when it resolves: all of them count against the CPU time, those in the window
    // against the wall time.
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    const result: FlowRound = {};
    for (const variant of order) result[variant] = await withCpu(servers[variant]!, () => signInBatch(servers, variant, pool, timing));
    results.push(result);
    logFlowRound(round, result);
  }
  const against = (variant: FlowVariant, base: FlowVariant = 'baseline') =>
    compare(results.map((round) => ({ bundle: round[variant]!, baseline: round[base]! })), totalFlows);
  return {
    bundle: against('bundle'),
    before: servers.before ? against('before') : undefined,
    floor: servers.floor ? against('floor') : undefined,
    bundleToFloor: servers.floor ? against('bundle', 'floor') : undefined,
  };
}

function logFlowRound(round: number, result: FlowRound): void {
  const perCpu = (m: Measured) => m.served / m.cpuSeconds;
  const { bundle, baseline, before, floor } = result as Record<Variant, FlowResult & Measured> & FlowRound;
  const toBaseline = (label: string, m: Measured | undefined) => (m ? `; ${label} ${fmt(ratio(perCpu(m), perCpu(baseline)), 3)}` : '');
  const toFloor = floor ? `; with / floor ${fmt(ratio(perCpu(bundle), perCpu(floor)), 3)}` : '';
  log(
    `row 3: round ${round + 1}: with / without ${fmt(bundle.perSecond, 1)} / ${fmt(baseline.perSecond, 1)} sign-ins/s, ${fmt(perCpu(bundle), 1)} / ${fmt(perCpu(baseline), 1)} per CPU s ` +
      `(ratio ${fmt(ratio(perCpu(bundle), perCpu(baseline)), 3)}${toBaseline('before #16', before)}${toBaseline('floor', floor)}${toFloor})`,
  );
}

async function rowFour(redis: Client, template: EnrolmentTemplate) {
  log(`row 4: ${plan.enrolled} enrolled people in Redis`);
  await redis.flushAll();
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(String(await redis.info('memory')))?.[1]);
  const before = await usedMemory();
  const users = await enrolUsers(redis, ENCRYPTION_KEY, template, ids('m', plan.enrolled), true);
  const after = await usedMemory();
  const keyNames = [...template.lastingKeys.keys()];
  let bytes = 0;
  for (let start = 0; start < users.length; start += 500) {
    const replies = await Promise.all(
      users.slice(start, start + 500).flatMap((user) =>
        keyNames.map((key) => redis.memoryUsage(key.replace(`{${template.userId}}`, `{${user.id}}`), { SAMPLES: 0 })),
      ),
    );
    for (const reply of replies) {
      if (reply === null) throw new Error('MEMORY USAGE found no key for an enrolled person');
      bytes += Number(reply);
    }
  }
  return {
    users: users.length,
    bytesPerUser: bytes / users.length,
    usedMemoryPerUser: (after - before) / users.length,
    keys: keyNames.map((key) => key.replace(`{${template.userId}}`, '{id}')),
    // As Redis holds it (RedisStore compacts the recovery-code hashes).
    recordJsonBytes: Buffer.byteLength(template.lastingKeys.get(`sf:user:{${template.userId}}`) ?? ''),
    recordFields: Object.keys(template.record),
    shortLivedKeys: template.shortLivedKeys.map((key) => key.replace(`{${template.userId}}`, '{id}')),
  };
}

/** Row 6, on a Redis server of its own: a million sessions would skew nothing else then. */
async function rowSix(): Promise<ResetLatency[]> {
  log(`row 6: reset latency with ${plan.resetOthers.map((n) => fmt(n)).join(' and ')} other sessions in Redis`);
  const server = await startRedis();
  const client: Client = createClient({ url: server.url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await resetLatencies(client, plan.resetOthers, plan.resetRepeats);
  } finally {
    await client.close().catch(() => {});
    await server.stop();
  }
}

async function rowFive() {
  log(`row 5: MemoryStore heap over ${plan.pending} pending sign-ins (separate process, --expose-gc)`);
  const script = fileURLToPath(new URL('./memory-store.ts', import.meta.url));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--expose-gc', script], {
    env: { ...process.env, PENDING: String(plan.pending), TTL_SECONDS: String(plan.pendingTtl) },
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Results['memoryStore'];
}

/**
 * On a machine with two CPUs or more (and Linux's taskset), the apps share CPU 0 and the load
 * generator and Redis get CPU 1: the apps then compete on equal terms, and the load generator
 * does not take their time slices. Elsewhere everything runs where the OS puts it.
 */
async function pinning(redis: Client): Promise<{ appCpu: number | undefined; note: string }> {
  if (cpus().length < 2 || process.platform !== 'linux') return { appCpu: undefined, note: 'not pinned (one CPU, or not Linux)' };
  try {
    const redisPid = /process_id:(\d+)/.exec(String(await redis.info('server')))?.[1];
    await run('taskset', ['-a', '-pc', '1', String(process.pid)]);
    if (redisPid) await run('taskset', ['-a', '-pc', '1', redisPid]);
    return { appCpu: 0, note: 'apps pinned to CPU 0; load generator and Redis to CPU 1 (taskset)' };
  } catch {
    return { appCpu: undefined, note: 'not pinned (taskset failed)' };
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const redisServer = await startRedis();
  const redis: Client = createClient({ url: redisServer.url });
  redis.on('error', () => {});
  await redis.connect();
  const redisVersion = /redis_version:(\S+)/.exec(String(await redis.info('server')))?.[1] ?? '?';
  const { appCpu, note } = await pinning(redis);
  let server: Awaited<ReturnType<typeof startBenchServer>> | undefined;
  try {
    log(`${smoke ? 'smoke run' : 'full run'} on redis ${redisVersion}; ${note}`);
    // The package as it was before #16, beside this one (full runs: smoke runs skip the extraction).
    const beforeEntry = smoke ? undefined : await extractBefore();
    server = await startBenchServer({ apps: ['bundle', 'baseline', 'baseline', 'floor', ...(beforeEntry ? (['before'] as const) : [])], redisUrl: redisServer.url, encryptionKey: ENCRYPTION_KEY, cpu: appCpu, ...(beforeEntry ? { beforeEntry } : {}) });
    const cpuSeconds = server.cpuSeconds.bind(server);
    const [bundle, baseline, control, floor, before] = server.urls.map((url): App => ({ url, cpuSeconds }));
    const template = await enrolTemplateUser(bundle!.url, redis, 't0');
    const pool = await enrolUsers(redis, ENCRYPTION_KEY, template, ids('f', plan.flowPool), false);

    const { verified, control: controlRatio, commands } = await rowsOneAndTwo(redis, { bundle: bundle!, baseline: baseline!, control: control! }, template);
    log('row 3: sign-ins, plain password check');
    const plainApps: FlowServers = { bundle: bundle!, baseline: baseline!, floor: floor!, ...(before ? { before } : {}) };
    await warmUpSignIns(plainApps, pool, plan.flowWarmupSeconds);
    const plain = await rowThree(plainApps, pool, { rounds: plan.flowRounds, seconds: plan.flowSeconds, warmupSeconds: Math.min(2, plan.warmupSeconds) });

    log('row 3: sign-ins, PBKDF2 password check');
    await server.usePasswordCheck('pbkdf2');
    const pbkdf2 = (await rowThree({ bundle: bundle!, baseline: baseline! }, pool, { rounds: plan.pbkdf2Rounds, seconds: plan.pbkdf2Seconds, warmupSeconds: Math.min(1, plan.warmupSeconds) })).bundle;
    // How well plan.flowPool is sized: the run fails if it runs out.
    log(`row 3: ${fmt(pool.length)} of ${fmt(plan.flowPool)} enrolled people left unused`);
    await server.stop();

    log(`row 3: ${plan.commandSignIns} sign-ins per app, one at a time, counted`);
    const counted = await countedSignIns({ redis, redisUrl: redisServer.url, encryptionKey: ENCRYPTION_KEY, template, samples: plan.commandSignIns, ids, ...(beforeEntry ? { beforeEntry } : {}) });
    const redisMemory = await rowFour(redis, template);
    log(`row 4: ${plan.enrolled} people enrolled with one passkey`);
    const passkeys = await passkeyMemory(redis, template, plan.enrolled);
    const memoryStore = await rowFive();
    const reset = await rowSix();
    log(`row 7: dry run of a stricter policy over ${fmt(plan.dryRunPeople)} people`);
    const dryRun = await dryRunBench(redis, { people: plan.dryRunPeople, runs: plan.dryRunRuns });

    report(
      { verified, control: controlRatio, commands, flow: { plain: plain.bundle, pbkdf2 }, flowBefore: plain.before, flowFloor: { floor: plain.floor!, bundle: plain.bundleToFloor! }, counted, redisMemory, passkeyMemory: passkeys, memoryStore, reset, dryRun },
      { redisVersion, seconds: (Date.now() - started) / 1000, pinning: note },
    );
  } finally {
    await server?.stop();
    await redis.close().catch(() => {});
    await redisServer.stop();
  }
}

interface Row {
  readonly id: string;
  readonly measure: string;
  readonly baseline: string;
  readonly bundle: string;
  readonly result: string;
  readonly target: string;
  readonly met: boolean | undefined;
}

function report(r: Results, meta: { redisVersion: string; seconds: number; pinning: string }): void {
  const extraCommands = totalCommands(r.commands.bundle) - totalCommands(r.commands.baseline);
  const { plain, pbkdf2 } = r.flow;
  const floorOf = r.flowFloor;
  const ms = r.memoryStore;
  const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, 1)} MB`;
  const spread = (c: Compared<Measured>) => `rounds ${fmt(c.spread[0], 3)}–${fmt(c.spread[1], 3)}`;
  const wallSpread = (c: Compared<Measured>) => `rounds ${fmt(c.wallSpread[0], 3)}–${fmt(c.wallSpread[1], 3)}`;
  const cpuMs = (perCpuSecond: number) => 1000 / perCpuSecond;
  const v = r.verified;

  const rows: Row[] = [
    { id: '1', measure: 'verified GET /api/me: requests per CPU second of the app', baseline: fmt(v.capacity.baseline), bundle: fmt(v.capacity.bundle), result: `ratio ${fmt(v.ratio, 3)} (${spread(v)}); ${fmt(1e6 / v.capacity.baseline)} / ${fmt(1e6 / v.capacity.bundle)} µs per request`, target: '>= 0.97', met: v.ratio >= 0.97 },
    { id: '1', measure: 'control: a second app without the bundle, same measure', baseline: fmt(r.control.capacity.baseline), bundle: fmt(r.control.capacity.bundle), result: `ratio ${fmt(r.control.ratio, 3)} (${spread(r.control)}): the noise floor`, target: '', met: undefined },
    { id: '1', measure: 'verified GET /api/me: req/s, wall clock', baseline: fmt(v.baseline.perSecond), bundle: fmt(v.bundle.perSecond), result: `ratio ${fmt(v.wallRatio, 3)} (${wallSpread(v)}); control ${fmt(r.control.wallRatio, 3)} (${wallSpread(r.control)})`, target: '', met: undefined },
    { id: '1', measure: 'verified GET /api/me: p99 latency', baseline: `${fmt(v.baseline.p99Ms)} ms`, bundle: `${fmt(v.bundle.p99Ms)} ms`, result: `p50 ${fmt(v.baseline.p50Ms)} / ${fmt(v.bundle.p50Ms)} ms (${plan.connections} connections)`, target: '', met: undefined },
    { id: '2', measure: 'Redis commands per verified request', baseline: fmt(totalCommands(r.commands.baseline), 2), bundle: fmt(totalCommands(r.commands.bundle), 2), result: `extra ${fmt(extraCommands, 2)}`, target: '= 0', met: Math.abs(extraCommands) < 0.005 },
    { id: '3', measure: 'sign-ins per CPU second of the app, PBKDF2 password check', baseline: fmt(pbkdf2.capacity.baseline, 1), bundle: fmt(pbkdf2.capacity.bundle, 1), result: `ratio ${fmt(pbkdf2.ratio, 3)} (${spread(pbkdf2)}); ${fmt(cpuMs(pbkdf2.capacity.baseline), 1)} / ${fmt(cpuMs(pbkdf2.capacity.bundle), 1)} ms per sign-in`, target: '>= 0.8', met: pbkdf2.ratio >= 0.8 },
    { id: '3', measure: 'sign-ins/s, wall clock, PBKDF2 password check', baseline: fmt(pbkdf2.baseline.perSecond, 1), bundle: fmt(pbkdf2.bundle.perSecond, 1), result: `ratio ${fmt(pbkdf2.wallRatio, 3)} (${wallSpread(pbkdf2)})`, target: '', met: undefined },
    { id: '3', measure: 'sign-ins per CPU second of the app, plain password check', baseline: fmt(plain.capacity.baseline, 1), bundle: fmt(plain.capacity.bundle, 1), result: `ratio ${fmt(plain.ratio, 3)} (${spread(plain)}), to the floor ${fmt(floorOf.bundle.ratio, 3)} (${spread(floorOf.bundle)}); ${fmt(cpuMs(plain.capacity.baseline), 2)} / ${fmt(cpuMs(plain.capacity.bundle), 2)} ms per sign-in${r.flowBefore ? `; before #16: ratio ${fmt(r.flowBefore.ratio, 3)} (${spread(r.flowBefore)}), ${fmt(cpuMs(r.flowBefore.capacity.bundle), 2)} ms` : ''}`, target: '>= 0.45', met: plain.ratio >= 0.45 },
    { id: '3', measure: "the same four requests without the second factor's work (the floor)", baseline: fmt(floorOf.floor.capacity.baseline, 1), bundle: fmt(floorOf.floor.capacity.bundle, 1), result: `ratio ${fmt(floorOf.floor.ratio, 3)} (${spread(floorOf.floor)}); ${fmt(cpuMs(floorOf.floor.capacity.bundle), 2)} ms per sign-in: the limit of the method`, target: '', met: undefined },
    { id: '3', measure: 'sign-ins/s, wall clock, plain password check', baseline: fmt(plain.baseline.perSecond, 1), bundle: fmt(plain.bundle.perSecond, 1), result: `ratio ${fmt(plain.wallRatio, 3)} (${wallSpread(plain)})`, target: '', met: undefined },
    ...signInCostRows(r.counted),
    { id: '4', measure: `Redis memory per enrolled person (${fmt(r.redisMemory.users)})`, baseline: '', bundle: `${fmt(r.redisMemory.bytesPerUser)} B`, result: `used_memory +${fmt(r.redisMemory.usedMemoryPerUser)} B/person`, target: '<= 640 B', met: r.redisMemory.bytesPerUser <= 640 },
    { id: '4', measure: `Redis memory per person enrolled with one passkey (${fmt(r.passkeyMemory.users)})`, baseline: '', bundle: `${fmt(r.passkeyMemory.bytesPerUser)} B`, result: `used_memory +${fmt(r.passkeyMemory.usedMemoryPerUser)} B/person; the key ${fmt(r.passkeyMemory.credentialJsonBytes)} B of JSON`, target: '<= 1024 B', met: r.passkeyMemory.bytesPerUser <= 1024 && r.passkeyMemory.usedMemoryPerUser <= 1024 },
    { id: '5', measure: `MemoryStore heap, ${fmt(ms.pending)} pending sign-ins`, baseline: mb(ms.baseline), bundle: `peak ${mb(ms.peak)}`, result: `${fmt((ms.peak - ms.baseline) / ms.pending)} B/pending at peak; after TTL ${mb(ms.after)} (+${fmt((ms.after - ms.baseline) / 1024)} KiB), entries ${fmt(ms.entriesAtPeak)} -> ${fmt(ms.entriesAfter)}`, target: 'back to baseline', met: ms.entriesAfter === 0 && ms.after - ms.baseline < (ms.peak - ms.baseline) * 0.02 },
    resetRow(r.reset),
    dryRunRow(r.dryRun),
  ];

  const header: Row = { id: 'row', measure: 'measure', baseline: 'without bundle', bundle: 'with bundle', result: 'result', target: 'target', met: undefined };
  const cells = (row: Row) => [row.id, row.measure, row.baseline, row.bundle, row.result, row.target];
  const widths = cells(header).map((_, i) => Math.max(...[header, ...rows].map((row) => cells(row)[i]!.length)));
  const line = (row: Row, met: string) => [...cells(row).map((cell, i) => cell.padEnd(widths[i]!)), met].join(' | ');
  console.log(
    [
      line(header, 'met'),
      [...widths.map((w) => '-'.repeat(w)), '---'].join('-|-'),
      ...rows.map((row) => line(row, row.met === undefined ? '' : smoke ? '-' : row.met ? 'yes' : 'NO')),
    ].join('\n'),
  );
  console.log(`row 2 by command: without ${describeCommands(r.commands.baseline)}; with ${describeCommands(r.commands.bundle)}`);
  console.log(`row 4 lasting keys per person: ${r.redisMemory.keys.join(', ')} (record ${r.redisMemory.recordJsonBytes} B of JSON: ${r.redisMemory.recordFields.join(', ')}); short-lived after enrolment: ${r.redisMemory.shortLivedKeys.join(', ') || 'none'}`);
  // For test/bench-smoke.test.ts: every row, as numbers.
  console.log(`BENCH_ROWS ${JSON.stringify({
    smoke,
    verified: { perCpuSecond: [v.capacity.baseline, v.capacity.bundle], ratio: v.ratio, controlRatio: r.control.ratio, reqPerSecond: [v.baseline.perSecond, v.bundle.perSecond], wallRatio: v.wallRatio, p99Ms: [v.baseline.p99Ms, v.bundle.p99Ms] },
    commandsPerVerifiedRequest: { baseline: totalCommands(r.commands.baseline), bundle: totalCommands(r.commands.bundle), extra: extraCommands },
    signIns: {
      pbkdf2: { perCpuSecond: [pbkdf2.capacity.baseline, pbkdf2.capacity.bundle], ratio: pbkdf2.ratio, perSecond: [pbkdf2.baseline.perSecond, pbkdf2.bundle.perSecond], wallRatio: pbkdf2.wallRatio },
      plain: { perCpuSecond: [plain.capacity.baseline, plain.capacity.bundle], ratio: plain.ratio, perSecond: [plain.baseline.perSecond, plain.bundle.perSecond], wallRatio: plain.wallRatio },
      floor: { perCpuSecond: [floorOf.floor.capacity.baseline, floorOf.floor.capacity.bundle], ratio: floorOf.floor.ratio, bundleRatio: floorOf.bundle.ratio },
      redisCommands: [r.counted.password.commands, r.counted.totp.bundle!.commands],
      counted: r.counted,
    },
    redisMemory: { users: r.redisMemory.users, bytesPerUser: r.redisMemory.bytesPerUser, usedMemoryPerUser: r.redisMemory.usedMemoryPerUser },
    passkeyMemory: { users: r.passkeyMemory.users, bytesPerUser: r.passkeyMemory.bytesPerUser, usedMemoryPerUser: r.passkeyMemory.usedMemoryPerUser },
    memoryStore: { pending: ms.pending, heap: [ms.baseline, ms.peak, ms.after], entries: [ms.entriesAtPeak, ms.entriesAfter] },
    reset: { others: r.reset.map((each) => each.others), ms: r.reset.map((each) => each.ms), ratio: resetRatio(r.reset) },
    dryRun: r.dryRun,
  })}`);

  if (smoke) {
    console.log(`bench: smoke run in ${fmt(meta.seconds)} s (no targets checked, BENCHMARKS.md not written)`);
    return;
  }
  writeFileSync(new URL('../BENCHMARKS.md', import.meta.url), markdown(r, rows, meta));
  console.log(`bench: wrote BENCHMARKS.md (${fmt(meta.seconds)} s)`);
  const missed = rows.filter((row) => row.met === false);
  if (missed.length > 0) {
    console.error(`bench: targets missed: ${missed.map((row) => `${row.id} ${row.measure}`).join('; ')}`);
    process.exitCode = 1;
  }
}
const costText = (cost: SignInCost) => `${fmt(cost.requests, 1)}, ${fmt(cost.roundTrips, 1)}, ${fmt(cost.commands, 1)}`;

/** Row 3's counted sign-ins: requests, round trips and commands, with the floor and the package before #16 beside them. */
function signInCostRows(counted: CountedSignIns): Row[] {
  const before = (cost: SignInCost | undefined) => (cost ? `before #16 (${BEFORE_REVISION}): ${costText(cost)}` : '');
  const totp = counted.totp.bundle!;
  const sms = counted.sms.bundle!;
  const beside = [`the floor: ${costText(counted.floor)}`, before(counted.totp.before)].filter(Boolean).join('; ');
  return [
    { id: '3', measure: 'per sign-in, password + authenticator code: HTTP requests, Redis round trips, Redis commands', baseline: costText(counted.password), bundle: costText(totp), result: beside, target: '<= 4 requests, <= 14 round trips', met: totp.requests <= 4 && totp.roundTrips <= 14 },
    { id: '3', measure: 'per sign-in, password + text-message code: the same', baseline: '', bundle: costText(sms), result: before(counted.sms.before), target: '<= 4 requests, <= 16 round trips', met: sms.requests <= 4 && sms.roundTrips <= 16 },
  ];
}

function dryRunRow(dry: DryRunBenchResult): Row {
  return {
    id: '7',
    measure: `dry run of "required for everyone" over ${fmt(dry.people)} people in Redis`,
    baseline: '',
    bundle: `${fmt(dry.ms, 1)} ms`,
    result: `median of ${dry.runs}; ${fmt(dry.stopped)} would be stopped; ${fmt(dry.storeRoundTrips)} MGET of ${dry.limits.storeBatchSize} ids, ${fmt(dry.redisCommands)} Redis commands, ${fmt(dry.directoryCalls)} directory pages of ${dry.limits.directoryPageSize}, 0 writes${dry.truncated ? '; stopped at a limit' : ''}`,
    target: 'counts everyone, no writes',
    met: !dry.truncated && dry.redisCommands === dry.storeRoundTrips,
  };
}

/** The slowest reset over the fastest: 1 when a reset's cost does not follow the session count. */
const resetRatio = (reset: readonly ResetLatency[]) => ratio(Math.max(...reset.map((each) => each.ms)), Math.min(...reset.map((each) => each.ms)));

function resetRow(reset: readonly ResetLatency[]): Row {
  const [few, many] = [reset[0]!, reset[reset.length - 1]!];
  return {
    id: '6',
    measure: `reset latency with ${fmt(few.others)} and ${fmt(many.others)} other sessions in Redis`,
    baseline: '',
    bundle: `${fmt(few.ms, 1)} ms / ${fmt(many.ms, 1)} ms`,
    result: `ratio ${fmt(resetRatio(reset), 2)} (median of ${plan.resetRepeats} resets, each ending the person's 3 sessions)`,
    target: 'within 2x',
    met: resetRatio(reset) <= 2,
  };
}

function markdown(r: Results, rows: readonly Row[], meta: { redisVersion: string; seconds: number; pinning: string }): string {
  const cpu = cpus();
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const table = [
    '| row | measure | without bundle | with bundle | result | target | met |',
    '|---|---|---:|---:|---|---|---|',
    ...rows.map((row) => `| ${row.id} | ${cell(row.measure)} | ${cell(row.baseline)} | ${cell(row.bundle)} | ${cell(row.result)} | ${cell(row.target)} | ${row.met === undefined ? '' : row.met ? 'yes' : '**no**'} |`),
  ].join('\n');
  return `# Benchmarks

Figures of one run of \`npm run bench\` (${new Date().toISOString().slice(0, 10)}, ${fmt(meta.seconds)} s) on
${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}, redis-server ${meta.redisVersion}.
Every ratio compares apps measured in the same run, in alternating batches. The absolute figures
are those of a small shared machine on which the apps, Redis and the load generator share
${cpu.length} cores: re-run \`npm run bench\` on your own hardware before sizing from them.
\`npm run bench -- --smoke\` runs a very short version without targets (it is in \`npm test\`).

${table}

Row 2 by command: without the bundle ${describeCommands(r.commands.baseline)}; with it ${describeCommands(r.commands.bundle)}.
Row 4, the lasting keys of an enrolled person: ${r.redisMemory.keys.map((key) => `\`${key}\``).join(', ')}; the record is
${fmt(r.redisMemory.recordJsonBytes)} bytes of JSON (${r.redisMemory.recordFields.join(', ')}). With one passkey instead, the record
(the person's only lasting key) is ${fmt(r.passkeyMemory.recordJsonBytes)} bytes of JSON, the key ${fmt(r.passkeyMemory.credentialJsonBytes)} of them.

## How each row is measured

\`bench/run.ts\` starts a \`redis-server\` (no persistence) on a loopback port and one child
process (\`bench/server.ts\`, \`NODE_ENV=production\`) that serves four apps on four ports,
each with its own Redis client: the same Express 5 + express-session + connect-redis +
passport-local app (\`bench/app.ts\`) with the bundle (\`afterLogin\`, the 2FA router and the
guard mounted, a \`RedisStore\`), without it, a second copy without it (the control), and
row 3's floor (see there).
Sharing one process, the apps share the heap, the loaded modules and the CPU, so they differ
only by what each does per request. The load comes from the parent process, to **one app at a
time**, in short batches whose order alternates (ABC, CBA, …): each ratio compares batches a
few seconds apart, drift falls on all alike, and a disturbance from elsewhere on the machine
spoils one round, which the median discounts. Placement: ${meta.pinning}. The process
reports its CPU time (\`process.cpuUsage()\`, all threads, over IPC); as one app at a time is
loaded, the CPU time of a batch is that app's. **The targets are on work per CPU second of the
app** (requests or sign-ins ÷ CPU seconds): the throughput one core sustains when the app is
saturated. Wall-clock req/s is shown beside it, but on a small machine shared with other work
it measures the neighbours and the load generator as much as the app (see its control ratio).
A ratio is the median over rounds of (with the bundle ÷ without), with the lowest and highest
round. The control's ratio to the app without the bundle shows how far two identical apps
differ here: the noise floor of the measure.

1. **Verified requests.** ${plan.connections} people are signed in to each app over HTTP
   (with the bundle: password, then the current TOTP code). autocannon sends \`GET /api/me\`
   (a small JSON answer, so the guard's share is as large as it gets) on ${plan.connections}
   connections, one session per connection, to one app at a time, alone on its CPU and
   saturated: after a ${plan.warmupSeconds} s warm-up per app, ${plan.rounds} rounds of
   ${plan.roundSeconds} s batches in alternating order (with, without, control; then control,
   without, with), so that drift falls on all alike and a disturbance is one round the median
   discounts. req/s is all requests over all seconds; p50 and p99 are medians of the rounds'.
   Any non-2xx answer fails the run.
2. **Redis commands per verified request.** \`INFO commandstats\` before and after exactly
   ${fmt(plan.commandSample)} verified requests, one app at a time, after in-flight requests
   settled; calls per command divided by the requests. Both are express-session's load
   (\`GET\`) and touch (\`EXPIRE\`): the guard reads the session only.
3. **Sign-ins per second.** ${plan.flowConcurrency} concurrent browser-like clients per app
   (\`node:http\` with keep-alive and a cookie jar, redirects followed as a browser does).
   One app at a time, in alternating batches, as in row 1.
   Login alone: \`POST /login\`, then the dashboard. With the bundle: \`POST /login\`, its
   redirect to the code page, \`POST /2fa/verify\` with the current TOTP code, the dashboard.
   Sign-ins that end within the measured window count (after the batch's first seconds; none
   starts after it).
   Every sign-in is by a person not used before in the run, enrolled beforehand (row 4's
   method, without the TOTP step), so that TOTP's replay rule (a time step is accepted once per
   person) never refuses a code; a sign-in that does not end on the dashboard fails the run.
   The target row uses the password check of Passport's own tutorial app (PBKDF2-HMAC-SHA256,
   310,000 iterations; ${plan.pbkdf2Rounds} rounds of ${plan.pbkdf2Seconds} s), as a
   production login does. The row with a constant-time string comparison (the example
   portal's demo check; ${plan.flowRounds} rounds of ${plan.flowSeconds} s) has nothing to hide
   the bundle's own cost: mostly the extra HTTP requests of the code step. Per wall second,
   the sign-ins that ended in the window count; per CPU second, every sign-in the batch
   started (all have ended when it does).
   Before the plain-check rounds, every app of the row runs ${plan.flowWarmupSeconds} s of sign-ins that
   nothing measures: V8 optimizes a code path in its first seconds of use, and the bundle's
   sign-in paths, far larger than the password-only app's, would otherwise pay for that
   compiling in their first measured batches.
   The floor line is the fourth app, in the same rounds: the bundle's four requests with none
   of its work (\`mountFloor\` in \`bench/app.ts\`: the login keeps a random token in the session,
   the code page shows it, the code POST parses the body, compares the token and regenerates
   the session; no code is checked). Its four requests against two make its ratio to the app
   without the bundle the limit of this method on this machine; the bundle's ratio to the
   floor (beside its own) is what the package's own work costs.
   The plain-check row also measures, beside this tree, the package as it was before #16
   (commit \`${BEFORE_REVISION}\`, its \`src\`, \`views\` and \`public\` extracted from this clone's
   history by \`bench/before.ts\`, mounted in a fifth app of the same process): all ratios
   come from the same rounds.
   **Per sign-in counts** (\`bench/counted.ts\`) come from ${plan.commandSignIns} sign-ins per app, one at
   a time, in a bench process of their own whose apps each reach Redis through a relay that
   counts round trips (\`bench/round-trips.ts\`: one burst the client writes is one trip; node-redis
   writes the commands of one tick together), after two warm-up sign-ins (Redis then holds the
   package's scripts). HTTP requests follow redirects as a browser does; Redis commands are
   \`INFO commandstats\` before and after (the other apps idle). The text-message line signs in
   people enrolled with a US number each (the app's sender keeps the code, sends nothing): the
   password, the code page, the code, the dashboard. The floor's counts are beside the
   authenticator line's. \`test/sign-in-cost.test.ts\` asserts the bundle's
   counts step by step, so a change that adds a round trip fails a test.
4. **Redis memory per enrolled person.** One person is enrolled through the pages over HTTP
   (password, method choice, the secret read off the page, a code) and every key of theirs
   without a TTL is read back: these are the lasting state an enrolment leaves. Then
   ${fmt(r.redisMemory.users)} people are written with the same keys: the record with a secret
   of their own sealed with the app's key (AES-256-GCM, as enrolment seals it) and a fresh
   factor id through \`RedisStore.saveUser\`, and the TOTP step. The figure is the sum of
   \`MEMORY USAGE key SAMPLES 0\` over one person's keys, averaged; the growth of
   \`used_memory\` over the writes, per person, is beside it (it includes the keyspace's own
   overhead). Each line starts from an empty Redis (FLUSHALL): keys the earlier rows left would
   make the keyspace's hash table double in the middle of the count and charge it to these
   people. The passkey line writes ${fmt(r.passkeyMemory.users)} people enrolled with one passkey
   each: a real credential per person (the package's registration options, answered by
   \`bench/software-authenticator.ts\` — a P-256 key, attestation "none" — and checked by the
   package's \`checkRegistration\`, so what is stored is what enrolment stores), ten recovery
   code hashes, measured the same way.
5. **MemoryStore heap.** In a process of its own run with \`--expose-gc\`
   (\`bench/memory-store.ts\`): ${fmt(r.memoryStore.pending)} pending sign-ins, each making the
   short-lived writes of a pending text-message sign-in with one wrong code (the code record,
   the resend cooldown and its claim, four attempt counters), with every TTL set to
   ${r.memoryStore.ttlSeconds} s instead of the flow's minutes to hours so that expiry can be
   watched. \`heapUsed\` after two forced GCs: before, once all are written, and once the TTLs
   and a sweep have passed. The heap is bounded by what is alive within a TTL: in production,
   (pending sign-ins per TTL window) × the bytes per pending sign-in above; note that the
   failed-code counter's window is 24 h.
6. **Reset latency.** On a Redis server of its own (\`bench/reset.ts\`), an app in this process
   (connect-redis sessions under \`sess:\`) where one admin, signed in with an authenticator app,
   resets a person signed in on 3 sessions: the time of the reset POST, median of
   ${plan.resetRepeats} resets, with ${r.reset.map((each) => fmt(each.others)).join(' and then ')}
   other people's sessions written straight into Redis as connect-redis stores them (JSON
   strings with a TTL, pipelined 10,000 at a time). The reset reads the person's own
   session index, so its cost follows their sessions, not everyone's: before the index it
   scanned every session (about 12 s at a million).
7. **Dry run of a stricter policy.** \`bench/dry-run.ts\`: ${fmt(plan.dryRunPeople)} generated people of
   the seed roles in two partner firms and their clients, their records in Redis (enrolled,
   skipped, of an older generation, nothing), and a directory that pages them. The policy page's
   dry run of "required for everyone" by a bot admin reads the directory in pages and the
   store in batches (one MGET each) and counts who would be stopped at their next sign-in:
   median of ${plan.dryRunRuns} runs after a warm-up; Redis's own command count beside it.
`;
}

await main();
