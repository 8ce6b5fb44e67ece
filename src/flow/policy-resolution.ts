import type { PolicyMode } from './policy.js';

/**
 * The effective policy of one person, as one pure function: no store, no request, no clock of
 * its own (`now` is an input). The sign-in, the skip offer, the guard, the policy page's "who
 * gets what and why" and the dry run all call it, so they cannot disagree.
 *
 * How the rules combine (the order matters, and is deliberate):
 * 1. The portal switch `off` turns everything off: no role override or firm brings 2FA back
 *    while the operator has switched it off (someone must be able to switch it off in an
 *    emergency without editing every firm).
 * 2. Otherwise the role override (`policy.roleModes`) replaces the portal's mode for that
 *    role, exactly as before firm policies existed: it is the operator's configuration, and
 *    may loosen (`optional` for a role while the portal is `required`). The portal's deadline
 *    goes with optional mode, so it still applies to a role made `optional`.
 * 3. Each firm on the person's tenant path (`['northwind']`, then `['northwind', 'acme']`)
 *    may only tighten what 1-2 gave: the strictest setting wins
 *    (required > optional with the earliest deadline > optional). A firm setting looser than
 *    that simply has no effect (the policy page refuses it before it is stored).
 * 4. A deadline that has passed makes optional mode required.
 */

/** When "Skip for now" stops being offered: the end of a day, or N days after the first sign-in. */
export type Deadline = { readonly kind: 'date'; readonly date: string } | { readonly kind: 'days'; readonly days: number };

/** A mode as the portal switch or a firm sets it; a deadline only with `optional`. */
export interface ModeSetting {
  readonly mode: PolicyMode;
  readonly deadline?: Deadline;
}

/** A firm's setting: it never turns 2FA off, so only `required` or `optional`. */
export interface FirmSetting {
  readonly mode: 'required' | 'optional';
  readonly deadline?: Deadline;
}

/** The rule that decided a person's effective mode. */
export type Because =
  | { readonly rule: 'portal' }
  | { readonly rule: 'role'; readonly role: string }
  | { readonly rule: 'firm'; readonly firm: string }
  | { readonly rule: 'deadline'; readonly by: 'portal' | { readonly firm: string } };

export interface EffectivePolicy {
  readonly mode: PolicyMode;
  /** While optional with a deadline: the first instant the skip is no longer offered (ms). */
  readonly skipUntil?: number;
  readonly because: Because;
}

/** Everything the resolution reads. */
export interface ResolutionInput {
  readonly portal: ModeSetting;
  /** The firm policies along the person's tenant path, top firm first; firms without one are absent. */
  readonly firms: readonly { readonly firm: string; readonly setting: FirmSetting }[];
  readonly roleModes: Readonly<Record<string, 'required' | 'optional'>>;
  readonly role: string | undefined;
  readonly now: number;
  /** IANA zone in which a date deadline's day ends. */
  readonly timeZone: string;
  /** The person's first sign-in under a days deadline (ms); absent: it is this one. */
  readonly firstSignInAt?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The ids of the firms on a tenant path: `['northwind', 'acme']` -> `northwind`, `northwind/acme`. */
export function firmPath(tenant: readonly string[]): string[] {
  return tenant.map((_, index) => tenant.slice(0, index + 1).join('/'));
}

/** A candidate for the strictest setting: what it asks, and which rule asked it. */
interface Candidate {
  readonly mode: 'required' | 'optional';
  readonly skipUntil: number | undefined;
  readonly because: Because;
}

/** The person's effective mode, skip deadline and the rule that decided. */
export function resolvePolicy(input: ResolutionInput): EffectivePolicy {
  const { portal, role, roleModes } = input;
  if (portal.mode === 'off') return { mode: 'off', because: { rule: 'portal' } };
  const override = role !== undefined && Object.hasOwn(roleModes, role) ? roleModes[role] : undefined;
  const base: Candidate = {
    mode: override ?? portal.mode,
    skipUntil: deadlineEnd(portal.deadline, input),
    because: override !== undefined && override !== portal.mode ? { rule: 'role', role: role! } : { rule: 'portal' },
  };
  // Later firms win only when strictly stricter: on a tie the higher rule is named.
  const strictest = input.firms.reduce<Candidate>((best, { firm, setting }) => {
    const candidate: Candidate = { mode: setting.mode, skipUntil: deadlineEnd(setting.deadline, input), because: { rule: 'firm', firm } };
    return compareStrictness(candidate, best) > 0 ? candidate : best;
  }, base);
  if (strictest.mode === 'required') return { mode: 'required', because: strictest.because };
  if (strictest.skipUntil === undefined) return { mode: 'optional', because: strictest.because };
  if (input.now >= strictest.skipUntil) return { mode: 'required', because: { rule: 'deadline', by: deadlineOwner(strictest.because) } };
  return { mode: 'optional', skipUntil: strictest.skipUntil, because: strictest.because };
}

/** A deadline belongs to the portal or to a firm; a role's optional mode carries the portal's. */
function deadlineOwner(because: Because): 'portal' | { firm: string } {
  return because.rule === 'firm' ? { firm: because.firm } : 'portal';
}

/** > 0 when `a` is stricter than `b`: required, then optional with the earlier deadline, then optional. */
function compareStrictness(a: Pick<Candidate, 'mode' | 'skipUntil'>, b: Pick<Candidate, 'mode' | 'skipUntil'>): number {
  const rank = (c: Pick<Candidate, 'mode' | 'skipUntil'>) => (c.mode === 'required' ? 2 : c.skipUntil === undefined ? 0 : 1);
  const byRank = rank(a) - rank(b);
  if (byRank !== 0 || rank(a) !== 1) return byRank;
  return b.skipUntil! - a.skipUntil!;
}

/** When a deadline ends for this person: the end of the date in the zone, or N days after the first sign-in. */
function deadlineEnd(deadline: Deadline | undefined, input: Pick<ResolutionInput, 'now' | 'timeZone' | 'firstSignInAt'>): number | undefined {
  if (!deadline) return undefined;
  if (deadline.kind === 'days') return (input.firstSignInAt ?? input.now) + deadline.days * DAY_MS;
  return endOfDay(deadline.date, input.timeZone);
}

/**
 * Whether `proposed` would be looser than `floor` for someone (the policy page refuses such a
 * firm setting). Deadlines of two kinds are not comparable in general: either may end first,
 * and the resolution takes whichever ends first anyway, so such a pair is not looser.
 */
export function isLooser(proposed: ModeSetting, floor: ModeSetting): boolean {
  if (floor.mode === 'off') return false;
  if (proposed.mode === 'off') return true;
  if (floor.mode === 'required') return proposed.mode !== 'required';
  if (proposed.mode === 'required' || !floor.deadline) return false;
  if (!proposed.deadline) return true;
  const [a, b] = [proposed.deadline, floor.deadline];
  if (a.kind === 'date' && b.kind === 'date') return a.date > b.date;
  if (a.kind === 'days' && b.kind === 'days') return a.days > b.days;
  return false;
}

/** Whether going from `before` to `after` makes 2FA stricter for anyone (the policy page then previews). */
export function isStricter(after: ModeSetting | undefined, before: ModeSetting | undefined): boolean {
  // No firm setting behaves as the loosest (the portal's decides); `off` is looser still.
  const a = after ?? { mode: 'optional' as const };
  const b = before ?? { mode: 'optional' as const };
  if (a.mode === b.mode && sameDeadline(a.deadline, b.deadline)) return false;
  return isLooser(b, a) || (b.mode === 'optional' && a.mode === 'optional' && a.deadline !== undefined && b.deadline !== undefined && a.deadline.kind !== b.deadline.kind);
}

function sameDeadline(a: Deadline | undefined, b: Deadline | undefined): boolean {
  if (!a || !b) return a === b;
  return a.kind === 'date' ? b.kind === 'date' && a.date === b.date : b.kind === 'days' && a.days === b.days;
}

/** A proposed policy, as the dry run sees it: the whole picture after a change. */
export interface ProposedPolicy {
  readonly portal: ModeSetting;
  /** Firm settings by firm id (`northwind`, `northwind/acme`). */
  readonly firms: Readonly<Record<string, FirmSetting>>;
  readonly roleModes: Readonly<Record<string, 'required' | 'optional'>>;
  readonly timeZone: string;
  readonly now: number;
}

/**
 * For the dry run: the mode a person would have under a proposed policy, now. A days deadline
 * counts from now (the person's first sign-in is not known here), so it reads as optional.
 */
export function modeUnderProposal(person: { readonly role: string | undefined; readonly tenant: readonly string[] }, proposed: ProposedPolicy): PolicyMode {
  const firms = firmPath(person.tenant).flatMap((firm) => (Object.hasOwn(proposed.firms, firm) ? [{ firm, setting: proposed.firms[firm]! }] : []));
  return resolvePolicy({ portal: proposed.portal, firms, roleModes: proposed.roleModes, role: person.role, now: proposed.now, timeZone: proposed.timeZone }).mode;
}

// --- dates in the portal's zone ----------------------------------------------------------

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Whether `text` is a real calendar date written YYYY-MM-DD (2026-02-30 is not). */
export function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** The zone's offset from UTC at `ms`, in ms (Auckland in January: +13 h). */
function zoneOffset(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(ms);
  const get = (type: string) => Number(parts.find((part) => part.type === type)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - (ms - (ms % 1000));
}

/**
 * The first instant after the day `date` (YYYY-MM-DD) in `timeZone`: local midnight that
 * starts the next day. Two passes, because the offset at the guess may differ from the offset
 * at the answer on a DST change day.
 */
export function endOfDay(date: string, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const midnightAsUtc = Date.UTC(y, m - 1, d + 1);
  const first = midnightAsUtc - zoneOffset(midnightAsUtc, timeZone);
  return midnightAsUtc - zoneOffset(first, timeZone);
}

/** The calendar date (YYYY-MM-DD) of `ms` in `timeZone`. */
export function dateIn(ms: number, timeZone: string): string {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

/**
 * What the skip offer says about a deadline: the last day the skip is offered, in the zone and
 * the page's language ("15 January"), and the calendar days from today to it (0: today).
 */
export function skipCountdown(skipUntil: number, now: number, timeZone: string, locale: string): { lastDay: string; daysLeft: number } {
  const lastInstant = skipUntil - 1;
  // The pages' English is British ("organisation"): "15 January", not "January 15".
  const lastDay = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : locale, { timeZone, day: 'numeric', month: 'long' }).format(lastInstant);
  const dayNumber = (ms: number) => Date.parse(`${dateIn(ms, timeZone)}T00:00:00Z`) / DAY_MS;
  return { lastDay, daysLeft: Math.max(0, Math.round(dayNumber(lastInstant) - dayNumber(now))) };
}
