import { pathToFileURL } from 'node:url';
import { createClient, type RedisClientType } from 'redis';
import { createDirectory, type Person } from '../src/admin/directory.js';
import { createDryRun, type DryRunLimits, type DryRunResult } from '../src/admin/dry-run.js';
import type { UserDirectory } from '../src/admin/options.js';
import { parseOptions } from '../src/options.js';
import { RedisStore, type TwoFactorStore, type UserRecord } from '../src/index.js';
import { startRedis } from '../test/helpers/redis.js';

/**
 * The dry run of a stricter policy over a generated portal of 10,000 people: how long it takes
 * and how many Redis round trips it makes. `dryRunBench()` is the row bench/run.ts prints;
 * `npx tsx bench/dry-run.ts` runs it on its own against a redis-server it starts.
 *
 * The generator is also the test's (test/dry-run.test.ts): its people, firms and enrolment
 * states are what the counts are checked against.
 */

type Client = RedisClientType<any, any, any, any, any>;
type Role = 'bot-admin' | 'bot-ops' | 'partner-admin' | 'partner-ops' | 'client-admin' | 'client-ops';

/** What a generated person's record says: enrolled now, skipped now, enrolled in an older generation, asked to enable, nothing. */
export type GeneratedState = 'enrolled' | 'skipped' | 'old' | 'enableRequested' | 'none';

/** A person of the generated portal, shaped like examples/portal/users.ts. */
export interface GeneratedPerson {
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly email: string;
  readonly role: Role;
  /** '' for bot staff, 'p1' for a partner firm, 'p1/c2' for its client. */
  readonly tenant: string;
  readonly firm: string;
  readonly state: GeneratedState;
}

/** The generation the generated records are "current" in; `old` records are one below. */
export const GENERATED_GENERATION = 2;

const PARTNERS = 4;
const CLIENTS_PER_PARTNER = 4;

/** Bot HQ, then each partner firm followed by its clients: 1 + 4 × (1 + 4) = 21 tenants. */
function tenants(): { tenant: string; firm: string; level: 'bot' | 'partner' | 'client' }[] {
  const all: { tenant: string; firm: string; level: 'bot' | 'partner' | 'client' }[] = [{ tenant: '', firm: 'Bot HQ', level: 'bot' }];
  for (let p = 1; p <= PARTNERS; p += 1) {
    all.push({ tenant: `p${p}`, firm: `Partner ${p}`, level: 'partner' });
    for (let c = 1; c <= CLIENTS_PER_PARTNER; c += 1) all.push({ tenant: `p${p}/c${c}`, firm: `Client ${p}.${c} (Partner ${p})`, level: 'client' });
  }
  return all;
}

// Out of every 10 people: 4 enrolled, 2 skipped, 1 enrolled before 2FA was last switched off,
// 1 asked to enable after a skip, 2 with no record at all.
const STATE_CYCLE: readonly GeneratedState[] = ['enrolled', 'skipped', 'none', 'enrolled', 'old', 'enrolled', 'skipped', 'enableRequested', 'enrolled', 'none'];

/** `count` people over the 21 tenants, one in ten an admin of their level, in a stable order. */
export function generatePeople(count: number): GeneratedPerson[] {
  const places = tenants();
  return Array.from({ length: count }, (_, i) => {
    const place = places[i % places.length]!;
    const admin = Math.floor(i / places.length) % 10 === 0;
    const role = `${place.level}-${admin ? 'admin' : 'ops'}` as Role;
    // A prime stride, so that the state does not follow the tenant or the role.
    const state = STATE_CYCLE[(i * 7) % STATE_CYCLE.length]!;
    const id = `g${i + 1}`;
    return { id, username: `person.${i + 1}`, name: `Person ${i + 1}`, email: `person${i + 1}@example.test`, role, tenant: place.tenant, firm: place.firm, state };
  });
}

/** The record a state leaves, or `undefined` for none. */
export function recordOf(state: GeneratedState): UserRecord | undefined {
  const at = 1_760_000_000_000;
  switch (state) {
    case 'enrolled':
      return { generation: GENERATED_GENERATION, method: 'totp', factorId: 'f', secret: 'sealed', enrolledAt: at };
    case 'old':
      return { generation: GENERATED_GENERATION - 1, method: 'totp', factorId: 'f', secret: 'sealed', enrolledAt: at };
    case 'skipped':
      return { generation: GENERATED_GENERATION, skippedAt: at };
    case 'enableRequested':
      return { generation: GENERATED_GENERATION, enableRequestedAt: at };
    case 'none':
      return undefined;
  }
}

/** Writes everyone's record, a thousand at a time in parallel (node-redis pipelines them). */
export async function writeRecords(store: TwoFactorStore, people: readonly GeneratedPerson[]): Promise<void> {
  for (let start = 0; start < people.length; start += 1_000) {
    await Promise.all(
      people.slice(start, start + 1_000).map((person) => {
        const record = recordOf(person.state);
        return record ? store.saveUser(person.id, record) : Promise.resolve();
      }),
    );
  }
}

const within = (tenant: string, scope: string) => scope === '' || tenant === scope || tenant.startsWith(`${scope}/`);

/**
 * The host's directory over the generated people, narrowing to the actor's firm and its
 * clients as a real directory would (the package filters again all the same). `calls.searches`
 * counts the searches.
 */
export function generatedDirectory(people: readonly GeneratedPerson[]): { directory: UserDirectory; calls: { searches: number } } {
  const byId = new Map(people.map((person) => [person.id, person]));
  const calls = { searches: 0 };
  const directory = {
    find: (id: string) => byId.get(id),
    search(query: string, options: { actor: Express.User; offset: number; limit: number }) {
      calls.searches += 1;
      const actor = options.actor as unknown as GeneratedPerson;
      const scope = actor.role === 'bot-admin' ? '' : actor.tenant;
      const needle = query.trim().toLowerCase();
      const matches = people.filter((person) => within(person.tenant, scope) && (!needle || person.name.toLowerCase().includes(needle)));
      return { users: matches.slice(options.offset, options.offset + options.limit) as unknown as Express.User[], total: matches.length };
    },
  };
  return { directory, calls };
}

/** The package's options for the generated portal: its directory and the seed role preset. */
export function generatedPortalOptions(store: TwoFactorStore, directory: UserDirectory) {
  return {
    issuer: 'Bench Portal',
    store,
    encryptionKey: 'b'.repeat(64),
    production: false,
    logger: { info() {}, warn() {}, error() {} },
    userId: (user: Express.User) => (user as unknown as GeneratedPerson).id,
    users: directory,
    roles: {
      roleOf: (user: Express.User) => (user as unknown as GeneratedPerson).role,
      tenantOf: (user: Express.User) => (user as unknown as GeneratedPerson).tenant,
    },
  };
}

/** A dry run engine over the generated people, and the bot admin (who sees everyone) as its actor. */
export function generatedDryRun(store: TwoFactorStore, people: readonly GeneratedPerson[]) {
  const { directory, calls } = generatedDirectory(people);
  const config = parseOptions(generatedPortalOptions(store, directory));
  const personDirectory = createDirectory(config, config.admin!);
  const actorOf = (person: GeneratedPerson): Person => personDirectory.personOf(person as unknown as Express.User)!;
  return { config, directoryCalls: calls, engine: createDryRun(config, config.admin!, personDirectory), actorOf };
}

/** The row's figures. */
export interface DryRunBenchResult {
  readonly people: number;
  /** Median wall milliseconds of one dry run (required for everyone, counting everybody). */
  readonly ms: number;
  readonly runs: number;
  /** MGET commands Redis served per run (its own count, INFO commandstats). */
  readonly storeRoundTrips: number;
  /** Every Redis command per run: the dry run writes nothing, so it is the MGETs alone. */
  readonly redisCommands: number;
  readonly directoryCalls: number;
  readonly stopped: number;
  readonly truncated: boolean;
  readonly limits: Pick<DryRunLimits, 'directoryPageSize' | 'storeBatchSize'>;
}

/** Calls of every command Redis has served, by name (INFO commandstats). */
async function commandCalls(client: Client): Promise<Map<string, number>> {
  const info = String(await client.info('commandstats'));
  return new Map([...info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

const delta = (after: Map<string, number>, before: Map<string, number>, name?: string) =>
  [...after].filter(([command]) => (name ? command === name : command !== 'info')).reduce((sum, [command, calls]) => sum + calls - (before.get(command) ?? 0), 0);

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Builds the 10,000-person portal under its own key prefix, times `runs` dry runs and removes
 * what it wrote. Takes a Redis URL (a client is opened and closed here) or a connected client.
 */
export async function dryRunBench(redis: string | Client, options: { people?: number; runs?: number } = {}): Promise<DryRunBenchResult> {
  const client: Client = typeof redis === 'string' ? createClient({ url: redis, disableOfflineQueue: true }) : redis;
  if (typeof redis === 'string') {
    client.on('error', () => {});
    await client.connect();
  }
  const prefix = `bench-dry-run-${process.pid}:`;
  const people = generatePeople(options.people ?? 10_000);
  const store = new RedisStore({ client, prefix });
  try {
    await writeRecords(store, people);
    const { engine, actorOf } = generatedDryRun(store, people);
    const actor = actorOf(people.find((person) => person.role === 'bot-admin')!);
    const request = { actor, effectiveModeOf: () => 'required' as const, generation: GENERATED_GENERATION, voidsEnrolments: false };
    await engine.run(request); // warm-up: compiled code paths, the directory's first pass
    const timings: number[] = [];
    let last: DryRunResult | undefined;
    const before = await commandCalls(client);
    const runs = options.runs ?? 5;
    for (let i = 0; i < runs; i += 1) {
      const started = performance.now();
      last = await engine.run(request);
      timings.push(performance.now() - started);
    }
    const after = await commandCalls(client);
    return {
      people: last!.scanned,
      ms: Math.round(median(timings) * 10) / 10,
      runs,
      storeRoundTrips: delta(after, before, 'mget') / runs,
      redisCommands: delta(after, before) / runs,
      directoryCalls: last!.directoryCalls,
      stopped: last!.totals.stopped,
      truncated: last!.truncated,
      limits: { directoryPageSize: 500, storeBatchSize: 500 },
    };
  } finally {
    await removeRecords(client, prefix, people);
    if (typeof redis === 'string') await client.quit();
  }
}

async function removeRecords(client: Client, prefix: string, people: readonly GeneratedPerson[]): Promise<void> {
  for (let start = 0; start < people.length; start += 1_000) {
    await client.del(people.slice(start, start + 1_000).map((person) => `${prefix}user:{${person.id}}`));
  }
}

// `npx tsx bench/dry-run.ts`: a quick check on its own, against a redis-server started here.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startRedis();
  try {
    console.log(JSON.stringify(await dryRunBench(server.url), null, 2));
  } finally {
    await server.stop();
  }
}
