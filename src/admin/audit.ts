import type { Config } from '../options.js';
import type { Person } from './directory.js';
import { canSee, type Actor, type RoleRules } from './roles.js';

export type AdminAction = 'reset' | 'unlock';

/** Why an admin action was refused; the `reason` of its event. */
export type RefusalReason = 'not_signed_in' | 'second_factor_required' | 'second_factor_not_proved' | 'not_admin' | 'csrf' | 'not_found' | 'forbidden' | 'self' | 'nothing_to_reset';

export type AuditOutcome = 'allowed' | 'refused' | 'failed';

/** One admin action as the admin page lists it and the exports give it. */
export interface AuditEntry {
  readonly seq: number;
  readonly at: number;
  readonly type: 'reset' | 'reset_refused' | 'unlocked' | 'unlock_refused';
  /** Absent in entries written before outcomes were kept: see `outcomeOf`. */
  readonly outcome?: AuditOutcome;
  /** The refusal's or failure's machine-readable reason. */
  readonly reason?: string;
  /** What the admin wrote as the reason of a reset. */
  readonly note?: string;
  readonly actorId?: string;
  readonly actorName?: string;
  readonly targetId: string;
  readonly targetName: string;
  /** The target's role and tenant when it happened: who may see the entry. */
  readonly targetRole: string;
  readonly targetTenant: readonly string[];
}

/**
 * Entries kept for the admin page and the exports (audit.csv, audit.json), across all tenants;
 * each viewer sees those about people they may see. Kept at 50: every list page and export
 * reads the whole ring, so its size is the cost of each of those requests.
 */
const RING_SIZE = 50;
const KEEP_SECONDS = 90 * 24 * 60 * 60;
const seqKey = 'admin-audit:seq';
const slotKey = (slot: number) => `admin-audit:${slot}`;

/**
 * Every admin action, allowed, refused or failed, goes to `onEvent` (the audit log of record).
 * The latest also go to a small ring in the store, so every app instance shows the same list.
 */
export function createAuditTrail(config: Config, rules: RoleRules) {
  const { store } = config;

  const typeOf = (action: AdminAction, refused: boolean): AuditEntry['type'] =>
    action === 'reset' ? (refused ? 'reset_refused' : 'reset') : refused ? 'unlock_refused' : 'unlocked';

  /** One action, allowed, refused or failed: an event, and an entry when the target is known. */
  async function record(action: AdminAction, event: RecordedAction): Promise<void> {
    const type = typeOf(action, event.outcome === 'refused');
    const actorId = event.actor?.id ?? event.actorId;
    // The actor's name and the admin's reason go to `notify` too: the person is told who
    // reset their second factor, when and why.
    config.emit({
      type,
      userId: event.targetId,
      ...(actorId !== undefined ? { actorId } : {}),
      ...(event.actor ? { actorName: event.actor.name } : {}),
      outcome: event.outcome,
      ...(event.reason ? { reason: event.reason } : {}),
      ...(event.note ? { note: event.note } : {}),
    });
    const target = event.target;
    // Only actions on a known person are kept (an unknown id tells an admin page nothing).
    if (!target || target.role === undefined) return;
    try {
      // Two writers can race for one slot (seq n and n + RING_SIZE); the page then misses an
      // entry, which onEvent still has.
      const seq = await store.increment(seqKey);
      await store.set(slotKey(seq % RING_SIZE), JSON.stringify(entryOf(seq, type, event, { ...target, role: target.role })), KEEP_SECONDS);
    } catch (error) {
      config.logger.error(`second factor: could not add a "${type}" entry to the admin page's list: ${(error as Error).message}`);
    }
  }

  const entryOf = (seq: number, type: AuditEntry['type'], event: RecordedAction, target: Person & { role: string }): AuditEntry => ({
    seq,
    at: config.now(),
    type,
    outcome: event.outcome,
    ...(event.reason ? { reason: event.reason } : {}),
    ...(event.note ? { note: event.note } : {}),
    ...(event.actor ? { actorId: event.actor.id, actorName: event.actor.name } : event.actorId !== undefined ? { actorId: event.actorId } : {}),
    targetId: target.id,
    targetName: target.name,
    targetRole: target.role,
    targetTenant: [...target.tenant],
  });

  /**
   * The latest `count` entries about people `viewer` may see, newest first; not failures,
   * which the 503 already told the admin about (the exports have them).
   */
  async function latest(viewer: Actor, count: number): Promise<AuditEntry[]> {
    return (await visible(viewer)).filter((entry) => outcomeOf(entry) !== 'failed').slice(0, count);
  }

  /**
   * Every kept entry about people `viewer` may see, newest first. One batch of RING_SIZE
   * reads, whoever asks and whatever they filter: the cost of a request is bounded by the ring.
   */
  async function visible(viewer: Actor): Promise<AuditEntry[]> {
    const raw = await Promise.all(Array.from({ length: RING_SIZE }, (_, slot) => store.get(slotKey(slot))));
    const entries: AuditEntry[] = [];
    for (const value of raw) {
      if (value === null) continue;
      let entry: AuditEntry;
      try {
        entry = JSON.parse(value) as AuditEntry;
      } catch {
        continue;
      }
      if (typeof entry.seq !== 'number' || !Array.isArray(entry.targetTenant)) continue;
      if (canSee(rules, viewer, { id: entry.targetId, role: entry.targetRole, tenant: entry.targetTenant })) entries.push(entry);
    }
    return entries.sort((a, b) => b.seq - a.seq);
  }

  return { record, latest, visible };
}

/** What an action handler tells `record`. */
interface RecordedAction {
  /** `allowed` (done), `refused` (a check said no), `failed` (allowed, but the store failed: nothing or not everything was done). */
  readonly outcome: AuditOutcome;
  readonly targetId: string;
  readonly actor?: Person;
  readonly actorId?: string;
  readonly target?: Person;
  readonly reason?: string;
  /** The admin's reason of a reset. */
  readonly note?: string;
}

/** An entry's outcome; entries from before outcomes were kept held no failures. */
export const outcomeOf = (entry: AuditEntry): AuditOutcome =>
  entry.outcome ?? (entry.type === 'reset_refused' || entry.type === 'unlock_refused' ? 'refused' : 'allowed');

export type AuditTrail = ReturnType<typeof createAuditTrail>;
