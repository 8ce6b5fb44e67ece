import type { FactorMethod } from './store/types.js';

/** What happened. Hosts audit, alert or notify on these. */
export type TwoFactorEventType =
  | 'challenge_started'
  | 'enrolled'
  | 'verified'
  | 'failed'
  | 'locked'
  | 'expired';

/**
 * An audit event, passed to `onEvent`. It never holds a secret, a code or a full phone number.
 */
export interface TwoFactorEvent {
  readonly type: TwoFactorEventType;
  /** The person the event is about. */
  readonly userId: string;
  /** When it happened. */
  readonly at: Date;
  /** The factor involved, when there is one. */
  readonly method?: FactorMethod;
  /** Who acted, when it was not the person (an admin). */
  readonly actorId?: string;
  /** `allowed` / `refused` and similar outcomes of admin actions. */
  readonly outcome?: string;
  /** A short machine-readable reason (e.g. an error code). */
  readonly reason?: string;
}

/** Where the package writes what the host's operators should know. Never receives secrets. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
