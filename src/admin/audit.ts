import type { Config } from '../options.js';
import type { Person } from './directory.js';
import { canSee, type Actor, type RoleRules } from './roles.js';

export type AdminAction = 'reset' | 'unlock';

/** Why an admin action was refused; the `reason` of its event. */
export type RefusalReason = 'not_signed_in' | 'second_factor_required' | 'second_factor_not_proved' | 'not_admin' | 'csrf' | 'not_found' | 'forbidden' | 'self' | 'nothing_to_reset';

/** One admin action as the admin page lists it. */
export interface AuditEntry {
  readonly seq: number;
  readonly at: number;
  readonly type: 'reset' | 'reset_refused' | 'unlocked' | 'unlock_refused';
  readonly reason?: string;
  readonly actorName?: string;
  readonly targetId: string;
  readonly targetName: string;
  /** The target's role and tenant when it happened: who may see the entry. */
  readonly targetRole: string;
  readonly targetTenant: readonly string[];
}

/** Entries kept for the admin page, across all tenants; each viewer sees those about people they may see. */
const RING_SIZE = 50;
const KEEP_SECONDS = 90 * 24 * 60 * 60;
const seqKey = 'admin-audit:seq';
const slotKey = (slot: number) => `admin-audit:${slot}`;

/**
 * Every admin action, allowed or refused, goes to `onEvent` (the audit log of record). The
 * latest also go to a small ring in the store, so every app instance shows the same list.
 */
export function createAuditTrail(config: Config, rules: RoleRules) {
  const { store } = config;

  const typeOf = (action: AdminAction, refused: boolean): AuditEntry['type'] =>
    action === 'reset' ? (refused ? 'reset_refused' : 'reset') : refused ? 'unlock_refused' : 'unlocked';

  /**
   * `outcome`: `allowed` (done), `refused` (a check said no), `failed` (allowed, but the store
   * failed: nothing or not everything was done).
   */
  async function record(
    action: AdminAction,
    event: { outcome: 'allowed' | 'refused' | 'failed'; targetId: string; actor?: Person; actorId?: string; target?: Person; reason?: string },
  ): Promise<void> {
    const type = typeOf(action, event.outcome === 'refused');
    const actorId = event.actor?.id ?? event.actorId;
    config.emit({
      type,
      userId: event.targetId,
      ...(actorId !== undefined ? { actorId } : {}),
      outcome: event.outcome,
      ...(event.reason ? { reason: event.reason } : {}),
    });
    const target = event.target;
    // Only actions on a known person are shown (an unknown id tells an admin page nothing),
    // and not failures, which the 503 already told the admin about.
    if (!target || target.role === undefined || event.outcome === 'failed') return;
    try {
      // Two writers can race for one slot (seq n and n + RING_SIZE); the page then misses an
      // entry, which onEvent still has.
      const seq = await store.increment(seqKey);
      const entry: AuditEntry = {
        seq,
        at: config.now(),
        type,
        ...(event.reason ? { reason: event.reason } : {}),
        ...(event.actor ? { actorName: event.actor.name } : {}),
        targetId: target.id,
        targetName: target.name,
        targetRole: target.role,
        targetTenant: [...target.tenant],
      };
      await store.set(slotKey(seq % RING_SIZE), JSON.stringify(entry), KEEP_SECONDS);
    } catch (error) {
      config.logger.error(`second factor: could not add a "${type}" entry to the admin page's list: ${(error as Error).message}`);
    }
  }

  /** The latest `count` entries about people `viewer` may see, newest first. */
  async function latest(viewer: Actor, count: number): Promise<AuditEntry[]> {
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
    return entries.sort((a, b) => b.seq - a.seq).slice(0, count);
  }

  return { record, latest };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;
