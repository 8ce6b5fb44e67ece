import { TwoFactorError } from '../errors.js';
import type { PolicyMode } from '../flow/policy.js';
import type { Config } from '../options.js';
import type { TwoFactorStore, UserRecord } from '../store/types.js';
import type { Directory, Person } from './directory.js';
import type { AdminConfig } from './options.js';
import { canSee } from './roles.js';

/** Why a person would be stopped at their next sign-in: they must enrol and have not. */
export type StopReason = 'not_enrolled' | 'skipped';

/** How far one dry run may go. Each field has a default; see {@link defaultDryRunLimits}. */
export interface DryRunLimits {
  /** People counted at most; past them the result is `truncated` ("counted the first N"). @default 50000 */
  readonly maxPeople: number;
  /** Wall-clock milliseconds at most; checked between directory pages and store batches. @default 5000 */
  readonly timeBudgetMs: number;
  /** People asked of the host's directory per `users.search` call. @default 500 */
  readonly directoryPageSize: number;
  /** Ids per `store.getUsers` call (one MGET on Redis). @default 500 */
  readonly storeBatchSize: number;
}

export const defaultDryRunLimits: DryRunLimits = Object.freeze({
  maxPeople: 50_000,
  timeBudgetMs: 5_000,
  directoryPageSize: 500,
  storeBatchSize: 500,
});

/** What a dry run is asked. */
export interface DryRunRequest {
  /** The admin looking: only the people the role rules let them see are counted. */
  readonly actor: Person;
  /** The mode the PROPOSED policy gives this person (portal switch, firm, role, deadline). */
  readonly effectiveModeOf: (person: Person) => PolicyMode;
  /** The enrolment generation in force now (`policy.current().generation`). */
  readonly generation: number;
  /**
   * The change turns 2FA on from off, which bumps the generation: every enrolment and skip
   * made so far counts as none.
   */
  readonly voidsEnrolments: boolean;
  /** The page of the list of stopped people to return, from 1. @default 1 */
  readonly page?: number;
  /** People per list page. @default 20 */
  readonly pageSize?: number;
  readonly limits?: Partial<DryRunLimits>;
}

/** People seen in a group (or in all) and how many of them the change would stop. */
export interface DryRunCount {
  readonly people: number;
  readonly stopped: number;
  readonly notEnrolled: number;
  readonly skipped: number;
}

/** One role or one firm. `key`: the role name or tenant path (`''`: no role, the root). */
export interface DryRunGroup extends DryRunCount {
  readonly key: string;
  /** The role name, or the firm's name from the directory (its tenant path when it has none). */
  readonly name: string;
}

/** One person on the list of those the change would stop. */
export interface StoppedPerson {
  readonly id: string;
  readonly name: string;
  readonly role: string | undefined;
  readonly firm: string;
  readonly why: StopReason;
}

export interface DryRunResult {
  readonly totals: DryRunCount;
  /** Groups with the most people stopped first. */
  readonly byRole: readonly DryRunGroup[];
  readonly byFirm: readonly DryRunGroup[];
  /** The requested page of the stopped people, in directory order. */
  readonly list: {
    readonly page: number;
    readonly pageSize: number;
    /** Pages of stopped people in all (at least 1), among those counted. */
    readonly pages: number;
    readonly people: readonly StoppedPerson[];
  };
  /** People counted (the directory's people the actor may see, up to the limits). */
  readonly scanned: number;
  /** The run stopped at a limit before the end of the directory: the counts are of the first `scanned`. */
  readonly truncated: boolean;
  /** Which limit, when truncated. */
  readonly stoppedBy: 'people' | 'time' | undefined;
  /** As asked: the change voids every enrolment and skip made so far. */
  readonly voidsEnrolments: boolean;
  /** `users.search` calls made. */
  readonly directoryCalls: number;
  /** `store.getUsers` calls made (each one MGET on Redis). */
  readonly storeCalls: number;
}

const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 200;

/**
 * Counts, before a stricter policy is saved, who it would stop at their next sign-in. Bounded
 * work: the directory is read in pages and the store in batches (never one read per person),
 * only counts and the requested list page are kept, and the run ends at a people limit or a
 * time budget, saying so. Nothing is written.
 */
export function createDryRun(config: Config, admin: AdminConfig, directory: Directory) {
  const readUsers = batchReader(config.store);

  async function run(request: DryRunRequest): Promise<DryRunResult> {
    const limits = checkedLimits(request.limits);
    const tally = createTally(listWindow(request));
    const started = Date.now();
    const calls = { directoryCalls: 0, storeCalls: 0 };
    // People read from the directory, not yet from the store: batches span directory pages,
    // so that every store call but the last is a full batch. Never more than a page and a batch.
    const queue: Person[] = [];
    const count = async (batch: Person[]) => {
      const records = await readUsers(batch.map((person) => person.id));
      calls.storeCalls += 1;
      batch.forEach((person, i) => tally.add(person, stopReason(request, person, records[i] ?? null)));
    };
    let offset = 0;
    let last = false;
    let stoppedBy: DryRunResult['stoppedBy'];
    while (!last && !stoppedBy) {
      stoppedBy = limitReached(tally.scanned + queue.length, started, limits);
      if (stoppedBy) break;
      const page = await readDirectoryPage(request.actor, offset, Math.min(limits.directoryPageSize, limits.maxPeople - tally.scanned - queue.length));
      calls.directoryCalls += 1;
      offset += page.read;
      last = page.last;
      queue.push(...page.people);
      while (queue.length >= limits.storeBatchSize && !stoppedBy) {
        await count(queue.splice(0, limits.storeBatchSize));
        // People read but not counted when the time is up: the counts are of `scanned` only.
        if (Date.now() - started >= limits.timeBudgetMs) stoppedBy = 'time';
      }
    }
    if (stoppedBy !== 'time' && queue.length > 0) await count(queue.splice(0));
    // Exactly `maxPeople` people and a full last page: one person asked beyond tells whether
    // anyone was left out, so a directory of exactly the limit is not called truncated.
    if (stoppedBy === 'people') {
      calls.directoryCalls += 1;
      if (!(await anyoneFrom(request.actor, offset))) stoppedBy = undefined;
    }
    return tally.result({ stoppedBy, voidsEnrolments: request.voidsEnrolments, ...calls });
  }

  async function anyoneFrom(actor: Person, offset: number): Promise<boolean> {
    const answer = await admin.users.search('', { actor: actor.user, offset, limit: 1 });
    return Array.isArray(answer?.users) && answer.users.length > 0;
  }

  /**
   * One page of the host's directory, as the actor may see it. `read` is how far the offset
   * moves (every answer, seen or not); `last` when the directory has no more.
   */
  async function readDirectoryPage(actor: Person, offset: number, limit: number) {
    const answer = await admin.users.search('', { actor: actor.user, offset, limit });
    if (!answer || !Array.isArray(answer.users)) throw new TypeError('users.search must return { users: [...], total? }');
    // Never more than asked, so that the people limit holds whatever the directory does.
    const users = answer.users.slice(0, limit);
    const total = typeof answer.total === 'number' && Number.isSafeInteger(answer.total) ? answer.total : undefined;
    const people = users
      .map(directory.personOf)
      .filter((person): person is Person => person !== undefined && canSee(admin.rules, actor, person));
    const last = users.length < limit || (total !== undefined && offset + users.length >= total);
    return { people, read: users.length, last };
  }

  return { run };
}

export type DryRun = ReturnType<typeof createDryRun>;

/** How the list's page links lead back: the path, the proposal, and GET links or POST forms. */
export interface DryRunLinks {
  readonly path: string;
  /** The proposed values (e.g. `{ mode: 'required', deadlineDays: '14' }`), carried by every page link. */
  readonly proposed: Readonly<Record<string, string>>;
  /**
   * `get`: links with the values in the query string. `post`: small forms with them as hidden
   * fields (and the CSRF token), for a preview that is the answer to a POST: the handler reads
   * `page` from the body and shows the preview again, saving nothing.
   * @default 'get'
   */
  readonly method?: 'get' | 'post';
}

/**
 * What views/admin/partials/dry-run.ejs reads (as `dryRun`): the result, and the list's page
 * links, which carry the proposed values so that paging shows the same proposal.
 */
export function dryRunView(result: DryRunResult, links: DryRunLinks) {
  const method = links.method ?? 'get';
  const fields = Object.entries(links.proposed).map(([name, value]) => ({ name, value }));
  const href = (page: number) => {
    const params = new URLSearchParams(Object.entries(links.proposed));
    if (page > 1) params.set('page', String(page));
    const query = params.toString();
    return query ? `${links.path}?${query}` : links.path;
  };
  const { page, pages } = result.list;
  // A page past the end (a stale link) leads back to the last one.
  const previous = page > 1 ? Math.min(page - 1, pages) : undefined;
  const next = page < pages ? page + 1 : undefined;
  return {
    ...result,
    method,
    path: links.path,
    fields,
    previousPage: previous,
    nextPage: next,
    previousHref: previous && method === 'get' ? href(previous) : undefined,
    nextHref: next && method === 'get' ? href(next) : undefined,
  };
}

export type DryRunView = ReturnType<typeof dryRunView>;

/** The limits given, over the defaults; a wrong one is a programming error of the caller. */
function checkedLimits(given: Partial<DryRunLimits> | undefined): DryRunLimits {
  const limits = { ...defaultDryRunLimits, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`dry run: limits.${name} must be a positive whole number, got ${String(value)}`);
    }
  }
  return limits;
}

/** The list page wanted, bounded: a page past the end is simply empty. */
function listWindow(request: DryRunRequest): { page: number; pageSize: number } {
  const page = Number.isSafeInteger(request.page) && request.page! >= 1 ? request.page! : 1;
  const size = request.pageSize ?? DEFAULT_PAGE_SIZE;
  const pageSize = Number.isSafeInteger(size) && size >= 1 ? Math.min(size, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
  return { page, pageSize };
}

function limitReached(scanned: number, started: number, limits: DryRunLimits): DryRunResult['stoppedBy'] {
  if (scanned >= limits.maxPeople) return 'people';
  // Real time, not config.now (a test clock): the budget is about how long the admin waits.
  if (Date.now() - started >= limits.timeBudgetMs) return 'time';
  return undefined;
}

/**
 * Why the proposed policy would stop this person, or `undefined` when it would not. As in
 * flow/account.ts, only a record of the current generation counts; a change that bumps the
 * generation makes every record count as none.
 */
export function stopReason(request: Pick<DryRunRequest, 'effectiveModeOf' | 'generation' | 'voidsEnrolments'>, person: Person, record: UserRecord | null): StopReason | undefined {
  if (request.effectiveModeOf(person) !== 'required') return undefined;
  const current = !request.voidsEnrolments && record !== null && record.generation === request.generation;
  if (current && record.method !== undefined) return undefined;
  return current && record.skippedAt !== undefined ? 'skipped' : 'not_enrolled';
}

/**
 * `store.getUsers`, failing closed as a store error. A store written before `getUsers` existed
 * is read with its `getUser`, the batch's reads in parallel: slower, still correct.
 */
function batchReader(store: TwoFactorStore): (ids: readonly string[]) => Promise<(UserRecord | null)[]> {
  const read = typeof store.getUsers === 'function'
    ? (ids: readonly string[]) => store.getUsers(ids)
    : (ids: readonly string[]) => Promise.all(ids.map((id) => store.getUser(id)));
  return async (ids) => {
    try {
      return await read(ids);
    } catch (error) {
      throw new TwoFactorError('store_unavailable', 'the store failed while counting for the dry run', { cause: error });
    }
  };
}

interface MutableCount {
  people: number;
  stopped: number;
  notEnrolled: number;
  skipped: number;
}

const emptyCount = (): MutableCount => ({ people: 0, stopped: 0, notEnrolled: 0, skipped: 0 });

function addTo(count: MutableCount, why: StopReason | undefined): void {
  count.people += 1;
  if (!why) return;
  count.stopped += 1;
  if (why === 'skipped') count.skipped += 1;
  else count.notEnrolled += 1;
}

/**
 * The running counts. Memory stays bounded by the number of roles and firms plus one list
 * page: nobody's record is kept, and of the stopped people only those of the page asked for.
 */
function createTally(window: { page: number; pageSize: number }) {
  const totals = emptyCount();
  const roles = new Map<string, MutableCount & { name: string }>();
  const firms = new Map<string, MutableCount & { name: string }>();
  const listed: StoppedPerson[] = [];
  const first = (window.page - 1) * window.pageSize;
  let scanned = 0;

  const groupOf = (groups: typeof roles, key: string, name: string) => {
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ...emptyCount(), name }));
    return group;
  };

  function add(person: Person, why: StopReason | undefined): void {
    scanned += 1;
    const tenant = person.tenant.join('/');
    const firm = person.firm ?? tenant;
    if (why && totals.stopped >= first && listed.length < window.pageSize) {
      listed.push({ id: person.id, name: person.name, role: person.role, firm, why });
    }
    addTo(totals, why);
    addTo(groupOf(roles, person.role ?? '', person.role ?? ''), why);
    addTo(groupOf(firms, tenant, firm), why);
  }

  function result(run: Pick<DryRunResult, 'stoppedBy' | 'voidsEnrolments' | 'directoryCalls' | 'storeCalls'>): DryRunResult {
    return {
      totals: { ...totals },
      byRole: sortedGroups(roles),
      byFirm: sortedGroups(firms),
      list: { ...window, pages: Math.max(1, Math.ceil(totals.stopped / window.pageSize)), people: listed },
      scanned,
      truncated: run.stoppedBy !== undefined,
      ...run,
    };
  }

  return {
    add,
    result,
    get scanned() {
      return scanned;
    },
  };
}

/** Most people stopped first, then by name, so the page reads the same on every run. */
function sortedGroups(groups: Map<string, MutableCount & { name: string }>): DryRunGroup[] {
  return [...groups]
    .map(([key, group]) => ({ key, ...group }))
    .sort((a, b) => b.stopped - a.stopped || a.name.localeCompare(b.name) || a.key.localeCompare(b.key));
}
