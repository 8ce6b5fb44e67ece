import type { Request } from 'express';
import { readField } from '../web/input.js';
import type { FactorText } from '../factors/contract.js';
import type { Standing } from '../flow/account.js';
import type { MessageKey } from '../web/messages.js';
import { hasFactorState } from './actions.js';
import type { AuditEntry } from './audit.js';
import type { AdminContext } from './context.js';
import type { Person } from './directory.js';
import { canReset } from './roles.js';

export const PAGE_SIZE = 20;
export const RECENT_ENTRIES = 10;
const MAX_QUERY_LENGTH = 100;

/** The list's search text and page number from the query string; anything odd is page 1. */
function readListQuery(req: Request): { query: string; page: number } {
  const query = (readField(req.query.q, MAX_QUERY_LENGTH) ?? '').trim();
  const pageText = readField(req.query.page, 6);
  const page = pageText && /^[1-9]\d*$/.test(pageText) ? Number(pageText) : 1;
  return { query, page };
}

/** One person as the list shows them (page and API), with what this actor may do to them. */
async function rowOf(ctx: AdminContext, actor: Person, person: Person) {
  const { standing, lockedSeconds } = await ctx.accounts.standingAndLock(person.id, ctx.attempts);
  const resettable = canReset(ctx.rules, actor, person);
  return {
    id: person.id,
    name: person.name,
    email: person.email,
    role: person.role,
    firm: person.firm ?? person.tenant.join('/'),
    method: standing.method,
    skipped: standing.skipped,
    needsReview: standing.needsReview,
    status: statusText(ctx, standing),
    lockedSeconds,
    self: person.id === actor.id,
    canReset: resettable && hasFactorState(standing),
    // Not tied to an enrolment: a lock can come from wrong codes typed while enrolling.
    canUnlock: resettable && lockedSeconds > 0,
  };
}

export type AdminRow = Awaited<ReturnType<typeof rowOf>>;

/** The page of people the request asks for, among those the actor may see. */
export async function list(ctx: AdminContext, req: Request, actor: Person) {
  const { query, page } = readListQuery(req);
  const result = await ctx.directory.search(actor, query, page, PAGE_SIZE);
  const rows = await Promise.all(result.people.map((person) => rowOf(ctx, actor, person)));
  return { query, page, rows, hasNext: result.hasNext, pages: result.pages };
}

export const listPath = (req: Request) => req.baseUrl || '/';

export const pageHref = (req: Request, query: string, page: number) => {
  const params = new URLSearchParams();
  if (query) params.set('q', query);
  if (page > 1) params.set('page', String(page));
  const search = params.toString();
  return search ? `${listPath(req)}?${search}` : listPath(req);
};

/** The status column's words: the enrolled factor's own (see Factor.adminStatus), skipped, or none. */
function statusText(ctx: AdminContext, standing: Standing): FactorText {
  // "This wasn't me": the lock (no factor left) is what the admin must act on.
  if (standing.needsReview) return { key: 'admin.status.needsReview' };
  const enrolled = standing.method && standing.record ? ctx.statusOf(standing.record) : undefined;
  return enrolled ?? { key: standing.skipped ? 'admin.status.skipped' : 'admin.status.none' };
}

/** One line of "recent actions" on the list page. */
export const recentLine = (entry: AuditEntry) => ({
  at: new Date(entry.at).toISOString(),
  shown: `${new Date(entry.at).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  key: `admin.recent.${entry.type}` as MessageKey,
  actor: entry.actorName,
  target: entry.targetName,
  note: entry.note,
});
