import { z } from 'zod';
import { TwoFactorError } from '../errors.js';
import type { Logger } from '../events.js';
import type { TwoFactorStore } from '../store/types.js';
import { parseTenant, type Tenant } from './tenant.js';
import { isCalendarDate, isTimeZone, type Deadline, type FirmSetting, type ModeSetting } from './policy-resolution.js';

/** The portal-wide switch: no second factor, required for everyone, or optional (skip allowed). */
export type PolicyMode = 'off' | 'required' | 'optional';

/** Options of the enforcement policy (`policy` in `secondFactor()`). */
export interface PolicyOptions {
  /**
   * The mode until an admin changes it on the policy page (the store then remembers the
   * admin's choice, which wins over this option) — unless `lockMode` is set.
   * @default 'required'
   */
  readonly mode?: PolicyMode;
  /**
   * Makes `mode` win over the switch stored by the policy page: the page shows the mode as set
   * by the operator in configuration and refuses changes (`policy_locked`). For a mode that
   * comes from the deployment (e.g. an environment variable) and must hold after a restart.
   * @default false
   */
  readonly lockMode?: boolean;
  /**
   * Per-role overrides while 2FA is on, e.g. `{ 'bot-admin': 'required' }` makes bot admins
   * enrol even when the portal is `optional`. Roles come from `roles.roleOf`.
   * @default {}
   */
  readonly roleModes?: Readonly<Record<string, 'required' | 'optional'>>;
  /**
   * How long an app instance trusts its copy of the switch. A change made on another instance
   * is seen within this time; the instance that made it sees it at once.
   * @default 5
   */
  readonly cacheSeconds?: number;
  /**
   * After a first enrolment, sign the person out so they sign in again with both factors.
   * @default false
   */
  readonly reauthenticateAfterEnrolment?: boolean;
  /**
   * Days a "Remember this device" checkbox on the verify pages keeps a browser trusted: the
   * person's later sign-ins there skip the code, until a reset, a method change or the days
   * run out. 0 turns the checkbox off.
   * @default 0
   */
  readonly rememberDeviceDays?: number;
  /**
   * The IANA time zone in which a deadline date ends ("skip until 2027-01-15" ends at local
   * midnight there) and in which the skip offer shows dates, e.g. `'Pacific/Auckland'`.
   * @default 'UTC'
   */
  readonly timeZone?: string;
}

export const policyOptionsSchema = z.strictObject({
  mode: z.enum(['off', 'required', 'optional']).optional(),
  lockMode: z.boolean().optional(),
  roleModes: z.record(z.string(), z.enum(['required', 'optional'])).optional(),
  cacheSeconds: z.number().min(0).max(300).optional(),
  reauthenticateAfterEnrolment: z.boolean().optional(),
  rememberDeviceDays: z.number().int().min(0).max(365).optional(),
  timeZone: z.string().refine(isTimeZone, { message: 'must be an IANA time zone name such as "Europe/Madrid" or "UTC"' }).optional(),
});

/** Longest "N days" deadline the policy page accepts. */
export const MAX_DEADLINE_DAYS = 365;

/** A deadline as stored (or typed on the policy page), checked: a real date, or 1-365 whole days. */
export const deadlineSchema = z.union([
  z.strictObject({ kind: z.literal('date'), date: z.string().refine(isCalendarDate, { message: 'must be a date YYYY-MM-DD' }) }),
  z.strictObject({ kind: z.literal('days'), days: z.number().int().min(1).max(MAX_DEADLINE_DAYS) }),
]);

/** The policy options as parsed, with `roles.tenantOf` for the firm policies (internal). */
export interface PolicyConfig extends PolicyOptions {
  readonly tenantOf?: (user: Express.User) => string | readonly string[] | undefined;
}

/** Who changed the switch on the policy page: their user id and account name. */
export interface PolicyActor {
  readonly id: string;
  readonly name: string;
}

/**
 * Where the mode in force comes from: the `policy.mode` option (or its default), or the
 * policy page, with who set it and when (absent for a value stored before they were recorded).
 */
export type PolicySource =
  | { readonly kind: 'option'; readonly locked: boolean }
  | { readonly kind: 'page'; readonly by?: PolicyActor; readonly at?: number };

export interface PolicyState {
  readonly mode: PolicyMode;
  /** In optional mode: when "Skip for now" stops being offered. */
  readonly deadline?: Deadline;
  /** Enrolments and skips of an older generation count as never made. */
  readonly generation: number;
  readonly source: PolicySource;
}

/** The switch as the policy page stores it. */
interface StoredSwitch {
  readonly mode: PolicyMode;
  readonly deadline?: Deadline;
  readonly by?: PolicyActor;
  readonly at?: number;
}

const MODE_KEY = 'policy:mode';
const GENERATION_KEY = 'policy:generation';

const isMode = (value: unknown): value is PolicyMode => value === 'off' || value === 'required' || value === 'optional';

function parseStored(raw: string | null): StoredSwitch | undefined {
  if (raw === null) return undefined;
  // A bare mode: written before who and when were recorded.
  if (isMode(raw)) return { mode: raw };
  try {
    const value = JSON.parse(raw) as { mode?: unknown; deadline?: unknown; by?: { id?: unknown; name?: unknown }; at?: unknown };
    if (!isMode(value.mode)) return undefined;
    const by = typeof value.by?.id === 'string' && typeof value.by.name === 'string' ? { id: value.by.id, name: value.by.name } : undefined;
    // A deadline that does not parse is dropped, not guessed at: optional then has none.
    const deadline = value.mode === 'optional' ? deadlineSchema.safeParse(value.deadline).data : undefined;
    return { mode: value.mode, ...(deadline ? { deadline } : {}), ...(by ? { by } : {}), ...(typeof value.at === 'number' ? { at: value.at } : {}) };
  } catch {
    // Unreadable: treated as no stored value, so the option decides.
    return undefined;
  }
}

const describeCause = (error: unknown): string => (error instanceof TwoFactorError && error.cause instanceof Error ? error.cause.message : String(error));

/** "set by bot.admin on 2026-12-01T10:00Z", for the start-up log. */
function describeSetBy(source: { readonly by?: PolicyActor; readonly at?: number }): string {
  // Names come from the host's directory: one log line stays one line.
  const clean = (text: string) => text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').slice(0, 120);
  const who = source.by ? ` by ${clean(source.by.name)}${source.by.name === source.by.id ? '' : ` (user ${clean(source.by.id)})`}` : '';
  const when = source.at === undefined ? '' : ` on ${new Date(source.at).toISOString().slice(0, 16)}Z`;
  return who || when ? `set${who}${when}` : 'set (who and when were not recorded)';
}

/** The start-up line: the mode in force, where it comes from, and a warning when an option is overridden. */
function announcement(stored: StoredSwitch | undefined, options: PolicyOptions): { level: 'info' | 'warn'; line: string } {
  const optionMode = options.mode ?? 'required';
  const option = options.mode === undefined ? 'the default' : 'from the policy.mode option';
  if (options.lockMode) {
    const overridden = stored && stored.mode !== optionMode ? `; overrides the policy page's "${stored.mode}" (${describeSetBy(stored)})` : '';
    return { level: 'info', line: `${optionMode} (${option}, locked by policy.lockMode${overridden})` };
  }
  if (!stored) return { level: 'info', line: `${optionMode} (${option})` };
  const line = `${stored.mode} (${describeSetBy(stored)} on the policy page)`;
  // The case an operator misreads: a mode set by option (e.g. from the environment) that the
  // stored switch silently overrides.
  if (options.mode === undefined || options.mode === stored.mode) return { level: 'info', line };
  return { level: 'warn', line: `${line}; the policy.mode option ("${options.mode}") is only the default until the page sets one: set policy.lockMode: true to make it win` };
}

/** What `createPolicy` is given. */
interface PolicyDeps {
  store: TwoFactorStore;
  options: PolicyConfig;
  now: () => number;
  logger: Logger;
}

/**
 * The policy's options, read once, and its in-process cache. The cache is the only state:
 * the last value read, kept past its freshness, so that the guard goes on using it while a
 * refresh runs (or fails). `epoch` lets a slow read started before a change not overwrite the
 * change.
 */
interface PolicyContext {
  readonly deps: PolicyDeps;
  readonly optionMode: PolicyMode;
  readonly locked: boolean;
  readonly roleModes: Readonly<Record<string, 'required' | 'optional'>>;
  readonly cacheMs: number;
  readonly cache: {
    known: PolicyState | undefined;
    freshUntil: number;
    epoch: number;
    refreshing: boolean;
    refreshFailing: boolean;
  };
}

/**
 * The switch lives in the store so every instance sees one value. Reads are cached in-process
 * for `cacheSeconds`; the guard never waits for it: it compares sessions with `lastKnown()`.
 * With `lockMode` the option wins and the page cannot change it.
 */
export function createPolicy(deps: PolicyDeps) {
  const ctx: PolicyContext = {
    deps,
    optionMode: deps.options.mode ?? 'required',
    locked: deps.options.lockMode ?? false,
    roleModes: { ...deps.options.roleModes },
    cacheMs: (deps.options.cacheSeconds ?? 5) * 1000,
    cache: { known: undefined, freshUntil: 0, epoch: 0, refreshing: false, refreshFailing: false },
  };
  const firstSeen = new Map<string, number>();
  return {
    current: (): Promise<PolicyState> => current(ctx),
    lastKnown: (): PolicyState | undefined => lastKnown(ctx),
    setMode: (mode: PolicyMode, actor: PolicyActor, deadline?: Deadline): Promise<{ before: PolicyState; after: PolicyState }> => setMode(ctx, mode, actor, deadline),
    firms: createFirmPolicies(deps, ctx.cacheMs),
    firstSignInAt: (userId: string): Promise<number> => firstSignInAt(deps, firstSeen, userId),
    readFirstSignInAt: (userId: string): Promise<number | undefined> => readFirstSignInAt(deps, userId),
    knownFirstSignInAt: (userId: string): number | undefined => firstSeen.get(userId),
    tenantOf: (user: Express.User): Tenant | undefined => tenantOf(deps, user),
    timeZone: deps.options.timeZone ?? 'UTC',
    now: deps.now,
    roleModes: ctx.roleModes,
    modeFor: (state: PolicyState, role: string | undefined): PolicyMode => modeFor(ctx, state, role),
    announce: (logger: Logger): Promise<void> => announce(ctx, logger),
    locked: ctx.locked,
    reauthenticateAfterEnrolment: deps.options.reauthenticateAfterEnrolment ?? false,
    rememberDeviceDays: deps.options.rememberDeviceDays ?? 0,
  };
}

async function read(ctx: PolicyContext): Promise<{ stored: StoredSwitch | undefined; generation: number }> {
  try {
    const [raw, generation] = await Promise.all([ctx.deps.store.get(MODE_KEY), ctx.deps.store.get(GENERATION_KEY)]);
    return { stored: parseStored(raw), generation: generation === null ? 0 : Number(generation) };
  } catch (error) {
    throw new TwoFactorError('store_unavailable', 'the store failed while reading the 2FA switch', { cause: error });
  }
}

function inForce(ctx: PolicyContext, stored: StoredSwitch | undefined, generation: number): PolicyState {
  const { locked } = ctx;
  if (locked || !stored) return { mode: ctx.optionMode, generation, source: { kind: 'option', locked } };
  return { mode: stored.mode, ...(stored.deadline ? { deadline: stored.deadline } : {}), generation, source: { kind: 'page', ...(stored.by ? { by: stored.by } : {}), ...(stored.at !== undefined ? { at: stored.at } : {}) } };
}

function remember(ctx: PolicyContext, state: PolicyState): void {
  ctx.cache.known = state;
  // Date.now, not the injectable clock: the cache is about real elapsed time between instances.
  ctx.cache.freshUntil = Date.now() + ctx.cacheMs;
}

async function load(ctx: PolicyContext): Promise<PolicyState> {
  const started = ctx.cache.epoch;
  const { stored, generation } = await read(ctx);
  const state = inForce(ctx, stored, generation);
  if (started === ctx.cache.epoch) remember(ctx, state);
  return state;
}

async function current(ctx: PolicyContext): Promise<PolicyState> {
  const { known, freshUntil } = ctx.cache;
  if (known && Date.now() < freshUntil) return known;
  return load(ctx);
}

/**
 * For the guard: synchronous, never a store call on its path. A stale value starts one
 * background refresh; a failed one is logged once per outage, keeps the old value and is
 * retried after another `cacheSeconds` (at least a second), not on every request.
 */
function lastKnown(ctx: PolicyContext): PolicyState | undefined {
  const { cache } = ctx;
  if (Date.now() >= cache.freshUntil && !cache.refreshing) {
    cache.refreshing = true;
    load(ctx).then(
      () => {
        cache.refreshFailing = false;
      },
      (error: unknown) => {
        cache.freshUntil = Date.now() + Math.max(ctx.cacheMs, 1000);
        if (!cache.refreshFailing) ctx.deps.logger.warn(`second factor: could not refresh the 2FA switch; open sessions are checked against the last value read (${describeCause(error)})`);
        cache.refreshFailing = true;
      },
    ).finally(() => {
      cache.refreshing = false;
    });
  }
  return cache.known;
}

/**
 * Changes the switch, recording who and when. Turning it on from `off` bumps the generation:
 * one atomic increment, no scan of users, and every earlier enrolment and skip is void.
 */
async function setMode(ctx: PolicyContext, mode: PolicyMode, actor: PolicyActor, deadline?: Deadline): Promise<{ before: PolicyState; after: PolicyState }> {
  const { cache, deps } = ctx;
  if (ctx.locked) throw new TwoFactorError('policy_locked', 'policy.lockMode is set: the policy.mode option decides the mode, not the policy page');
  cache.epoch += 1;
  cache.freshUntil = 0;
  const before = await current(ctx);
  let generation = before.generation;
  if (before.mode === 'off' && mode !== 'off') generation = await deps.store.increment(GENERATION_KEY);
  // A deadline belongs to optional mode only: required and off have nothing to skip.
  const record: StoredSwitch = { mode, ...(mode === 'optional' && deadline ? { deadline } : {}), by: { id: actor.id, name: actor.name }, at: deps.now() };
  await deps.store.set(MODE_KEY, JSON.stringify(record));
  // This instance sees the change at once, the guard included: it never waits for a read.
  cache.epoch += 1;
  const after = inForce(ctx, record, generation);
  remember(ctx, after);
  return { before, after };
}

/**
 * Logs the mode in force and where it comes from, once, at start-up. Never rejects: a store
 * that cannot be read is a warning (sign-ins then fail closed until it can).
 */
async function announce(ctx: PolicyContext, logger: Logger): Promise<void> {
  let stored: StoredSwitch | undefined;
  try {
    const started = ctx.cache.epoch;
    let generation: number;
    ({ stored, generation } = await read(ctx));
    // Also the guard's first value: until there is one, it trusts no grant made without a factor.
    if (started === ctx.cache.epoch && !ctx.cache.known) remember(ctx, inForce(ctx, stored, generation));
  } catch (error) {
    logger.warn(`second factor: 2FA mode not known yet: could not read the stored switch at start-up (${describeCause(error)}); sign-ins answer 503 until the store answers`);
    return;
  }
  const { level, line } = announcement(stored, ctx.deps.options);
  logger[level](`second factor: 2FA mode: ${line}`);
}

function modeFor(ctx: PolicyContext, state: PolicyState, role: string | undefined): PolicyMode {
  const { roleModes } = ctx;
  if (state.mode === 'off') return 'off';
  return (role !== undefined && Object.hasOwn(roleModes, role) ? roleModes[role] : undefined) ?? state.mode;
}

/** The portal switch as the resolution reads it. */
export function portalSetting(state: PolicyState): ModeSetting {
  return { mode: state.mode, ...(state.deadline ? { deadline: state.deadline } : {}) };
}

// --- firm policies ---------------------------------------------------------------------------

/** A firm's policy as stored: its setting, who set it and when. */
export interface StoredFirmPolicy extends FirmSetting {
  readonly by?: PolicyActor;
  readonly at?: number;
}

/** One firm's cached value: `null` once read and absent (the firm follows the portal). */
interface FirmCacheEntry {
  known: StoredFirmPolicy | null | undefined;
  freshUntil: number;
  epoch: number;
  refreshing: boolean;
}

const firmKey = (firm: string) => `policy:firm:${firm}`;

const firmSchema = z.object({
  mode: z.enum(['required', 'optional']),
  deadline: deadlineSchema.optional(),
  by: z.object({ id: z.string(), name: z.string() }).optional(),
  at: z.number().optional(),
});

function parseFirm(raw: string | null): StoredFirmPolicy | null {
  if (raw === null) return null;
  try {
    const parsed = firmSchema.safeParse(JSON.parse(raw));
    // Unreadable: the firm is taken as requiring 2FA, never as following a looser portal.
    if (!parsed.success) return { mode: 'required' };
    const { mode, deadline, by, at } = parsed.data;
    return { mode, ...(mode === 'optional' && deadline ? { deadline } : {}), ...(by ? { by } : {}), ...(at !== undefined ? { at } : {}) };
  } catch {
    return { mode: 'required' };
  }
}

/**
 * One store key per firm (`policy:firm:<id>`), cached in-process like the portal switch. The
 * sign-in reads only the keys of the person's own firms (their tenant path), so its cost grows
 * with the depth of one person's tenant, not with the number of firms; the guard reads only
 * this cache.
 */
function createFirmPolicies(deps: PolicyDeps, cacheMs: number) {
  const cache = new Map<string, FirmCacheEntry>();
  const entryOf = (firm: string): FirmCacheEntry => {
    let entry = cache.get(firm);
    if (!entry) cache.set(firm, (entry = { known: undefined, freshUntil: 0, epoch: 0, refreshing: false }));
    return entry;
  };

  async function load(firm: string): Promise<StoredFirmPolicy | null> {
    const entry = entryOf(firm);
    const started = entry.epoch;
    let raw: string | null;
    try {
      raw = await deps.store.get(firmKey(firm));
    } catch (error) {
      throw new TwoFactorError('store_unavailable', 'the store failed while reading a firm policy', { cause: error });
    }
    const value = parseFirm(raw);
    if (started === entry.epoch) Object.assign(entry, { known: value, freshUntil: Date.now() + cacheMs });
    return value;
  }

  /** For the sign-in and the pages: fresh values of these firms (one read each when stale). */
  async function current(firms: readonly string[]): Promise<(StoredFirmPolicy | null)[]> {
    return Promise.all(firms.map((firm) => {
      const entry = entryOf(firm);
      return entry.known !== undefined && Date.now() < entry.freshUntil ? entry.known : load(firm);
    }));
  }

  /**
   * For the guard: synchronous, cache only. Undefined when a firm was never read on this
   * instance (the guard then fails closed); a stale value starts one background refresh.
   */
  function lastKnown(firms: readonly string[]): (StoredFirmPolicy | null)[] | undefined {
    const values = firms.map((firm) => {
      const entry = entryOf(firm);
      if (Date.now() >= entry.freshUntil && !entry.refreshing) {
        entry.refreshing = true;
        load(firm).then(
          () => undefined,
          (error: unknown) => {
            entry.freshUntil = Date.now() + Math.max(cacheMs, 1000);
            deps.logger.warn(`second factor: could not refresh the policy of firm ${firm} (${describeCause(error)})`);
          },
        ).finally(() => {
          entry.refreshing = false;
        });
      }
      return entry.known;
    });
    return values.some((value) => value === undefined) ? undefined : (values as (StoredFirmPolicy | null)[]);
  }

  /** Sets (or, with `undefined`, removes) a firm's policy; this instance sees it at once. */
  async function set(firm: string, setting: FirmSetting | undefined, actor: PolicyActor): Promise<{ before: StoredFirmPolicy | null; after: StoredFirmPolicy | null }> {
    const entry = entryOf(firm);
    entry.epoch += 1;
    const [before] = await current([firm]);
    let after: StoredFirmPolicy | null = null;
    if (setting) {
      after = { mode: setting.mode, ...(setting.mode === 'optional' && setting.deadline ? { deadline: setting.deadline } : {}), by: { id: actor.id, name: actor.name }, at: deps.now() };
      await deps.store.set(firmKey(firm), JSON.stringify(after));
    } else {
      await deps.store.delete(firmKey(firm));
    }
    entry.epoch += 1;
    Object.assign(entry, { known: after, freshUntil: Date.now() + cacheMs });
    return { before: before ?? null, after };
  }

  return { current, lastKnown, set };
}

export type FirmPolicies = ReturnType<typeof createFirmPolicies>;

/** Ten years: setIfAbsent needs a TTL, and a first sign-in must outlive any deadline of days. */
const FIRST_SIGN_IN_TTL_SECONDS = 10 * 366 * 24 * 60 * 60;

/**
 * The person's first sign-in under a days deadline, written once per person ever (an atomic
 * set-if-absent: two parallel first sign-ins agree on one value). Keyed with the person's
 * hash tag, beside their other keys.
 */
const firstSignInKey = (userId: string) => `policy:first-sign-in:{${userId}}`;

/** The recorded first sign-in, without recording one. */
async function readFirstSignInAt(deps: PolicyDeps, userId: string): Promise<number | undefined> {
  const raw = await deps.store.get(firstSignInKey(userId));
  return raw !== null && Number.isFinite(Number(raw)) ? Number(raw) : undefined;
}

async function firstSignInAt(deps: PolicyDeps, firstSeen: Map<string, number>, userId: string): Promise<number> {
  const key = firstSignInKey(userId);
  const read = () => readFirstSignInAt(deps, userId);
  let value = await read();
  if (value === undefined) {
    const now = deps.now();
    value = (await deps.store.setIfAbsent(key, String(now), FIRST_SIGN_IN_TTL_SECONDS)) ? now : ((await read()) ?? now);
  }
  rememberFirstSignIn(firstSeen, userId, value);
  return value;
}

/** How many people's first sign-ins an instance keeps for the guard (oldest dropped first). */
const FIRST_SEEN_LIMIT = 10_000;

/**
 * The guard has no store call to spare: it checks a days deadline of a session that skipped
 * against this in-process copy. A person not in it (signed in on another instance, or dropped)
 * fails closed there: sent back to the second factor, where the skip is offered again.
 */
function rememberFirstSignIn(firstSeen: Map<string, number>, userId: string, value: number): void {
  firstSeen.delete(userId);
  firstSeen.set(userId, value);
  if (firstSeen.size > FIRST_SEEN_LIMIT) firstSeen.delete(firstSeen.keys().next().value!);
}

/** The person's tenant path, `[]` without `roles`; undefined when the host's answer does not parse. */
function tenantOf(deps: PolicyDeps, user: Express.User): Tenant | undefined {
  const { tenantOf: given } = deps.options;
  if (!given) return [];
  try {
    return parseTenant(given(user));
  } catch {
    return undefined;
  }
}

export type Policy = ReturnType<typeof createPolicy>;
