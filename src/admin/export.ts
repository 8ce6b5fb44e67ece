import type { Request, Response } from 'express';
import { z } from 'zod';
import { outcomeOf, type AuditEntry } from './audit.js';
import type { AdminContext } from './context.js';
import type { Person } from './directory.js';

// GET <admin>/audit.csv and <admin>/audit.json: the kept admin actions about people the viewer
// may see, filtered by the query string. They only read: no event, no store write.

const DAY_MS = 24 * 60 * 60 * 1000;
const isDateOnly = (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value);

/** An empty form field (the page's filter form sends every field) means "no filter". */
const blankIsAbsent = (value: unknown) => (value === '' ? undefined : value);
const text = z.preprocess(blankIsAbsent, z.string().trim().min(1).max(200).optional());
const when = z.preprocess(blankIsAbsent, z.union([z.iso.date(), z.iso.datetime({ offset: true })]).optional());

/** The filters; any other parameter is refused, so a misspelt one does not quietly export everything. */
const filterSchema = z
  .strictObject({
    actor: text,
    person: text,
    outcome: z.preprocess(blankIsAbsent, z.enum(['allowed', 'refused', 'failed']).optional()),
    from: when,
    to: when,
  })
  .refine((f) => !f.from || !f.to || startOf(f.from) < endOf(f.to), { path: ['to'], message: 'is before from' });

export type AuditFilters = z.infer<typeof filterSchema>;

/** `from` as the first instant it includes: a date is its first millisecond (UTC). */
const startOf = (from: string) => Date.parse(isDateOnly(from) ? `${from}T00:00:00Z` : from);
/** `to` as the first instant past it: a date includes the whole day (UTC). */
const endOf = (to: string) => (isDateOnly(to) ? Date.parse(`${to}T00:00:00Z`) + DAY_MS : Date.parse(to) + 1);

/** The filters of the query string, or the name of the first parameter that is wrong. */
export function readFilters(query: unknown): { ok: true; filters: AuditFilters } | { ok: false; parameter: string } {
  const parsed = filterSchema.safeParse(query);
  if (parsed.success) return { ok: true, filters: parsed.data };
  const issue = parsed.error.issues[0]!;
  const parameter = issue.code === 'unrecognized_keys' ? issue.keys[0]! : String(issue.path[0] ?? 'query');
  // Bounded: the name is echoed on the page and in JSON.
  return { ok: false, parameter: parameter.slice(0, 40) };
}

/** An id, exactly, or part of a name, in any case. */
const matches = (wanted: string, id: string | undefined, name: string | undefined) =>
  id === wanted || (name !== undefined && name.toLowerCase().includes(wanted.toLowerCase()));

export function applyFilters(entries: readonly AuditEntry[], f: AuditFilters): AuditEntry[] {
  const from = f.from ? startOf(f.from) : -Infinity;
  const to = f.to ? endOf(f.to) : Infinity;
  return entries.filter(
    (e) =>
      (!f.actor || matches(f.actor, e.actorId, e.actorName)) &&
      (!f.person || matches(f.person, e.targetId, e.targetName)) &&
      (!f.outcome || outcomeOf(e) === f.outcome) &&
      e.at >= from &&
      e.at < to,
  );
}

/** One exported row; the same names in both formats. */
const exportedRow = (e: AuditEntry) => ({
  at: new Date(e.at).toISOString(),
  action: e.type === 'reset' || e.type === 'reset_refused' ? 'reset' : 'unlock',
  outcome: outcomeOf(e),
  /** The machine-readable code of a refusal or failure. */
  detail: e.reason ?? null,
  actorId: e.actorId ?? null,
  actorName: e.actorName ?? null,
  personId: e.targetId,
  personName: e.targetName,
  /** What the admin wrote. */
  reason: e.note ?? null,
});

const columns = ['at', 'action', 'outcome', 'detail', 'actorId', 'actorName', 'personId', 'personName', 'reason'] as const;

/**
 * One CSV cell, always quoted. A cell a spreadsheet would read as a formula (= + - @, or a
 * tab or carriage return first) gets a leading apostrophe: names and reasons are typed by
 * people, and an export is opened by someone else.
 */
export function csvCell(value: string | null): string {
  const text = value ?? '';
  const inert = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${inert.replace(/"/g, '""')}"`;
}

export function toCsv(entries: readonly AuditEntry[]): string {
  const lines = [columns.join(','), ...entries.map((e) => {
    const row = exportedRow(e);
    return columns.map((column) => csvCell(row[column])).join(',');
  })];
  return `${lines.join('\r\n')}\r\n`;
}

/** The entries the request asks for, or undefined once a 400 naming the parameter was sent. */
async function selected(ctx: AdminContext, req: Request, res: Response, actor: Person, format: 'csv' | 'json'): Promise<AuditEntry[] | undefined> {
  const read = readFilters(req.query);
  if (!read.ok) {
    refuseFilter(ctx, req, res, read.parameter, format);
    return undefined;
  }
  return applyFilters(await ctx.audit.visible(actor), read.filters);
}

function refuseFilter(ctx: AdminContext, req: Request, res: Response, parameter: string, format: 'csv' | 'json'): void {
  res.set('Cache-Control', 'no-store');
  if (format === 'json') {
    res.status(400).json({ error: 'bad_request', parameter });
    return;
  }
  ctx.render(req, res, 400, 'error', {
    title: 'page.title.error',
    error: { key: 'admin.audit.badFilter', params: { parameter } },
    back: req.baseUrl || '/',
  });
}

/** `second-factor-audit-2026-12-01.csv`: the day of the export, UTC. */
const attachment = (ctx: AdminContext, extension: string) =>
  `attachment; filename="second-factor-audit-${new Date(ctx.config.now()).toISOString().slice(0, 10)}.${extension}"`;

/** GET /audit.csv */
export async function exportAuditCsv(ctx: AdminContext, req: Request, res: Response, actor: Person): Promise<void> {
  const entries = await selected(ctx, req, res, actor, 'csv');
  if (!entries) return;
  res.set({ 'Cache-Control': 'no-store', 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': attachment(ctx, 'csv') });
  res.status(200).send(toCsv(entries));
}

/** GET /audit.json */
export async function exportAuditJson(ctx: AdminContext, req: Request, res: Response, actor: Person): Promise<void> {
  const entries = await selected(ctx, req, res, actor, 'json');
  if (!entries) return;
  res.set({ 'Cache-Control': 'no-store', 'Content-Disposition': attachment(ctx, 'json') });
  res.status(200).json({ generatedAt: new Date(ctx.config.now()).toISOString(), entries: entries.map(exportedRow) });
}
