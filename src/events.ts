import type { FactorMethod } from './store/types.js';

/** What happened. Hosts audit, alert or notify on these. */
export type TwoFactorEventType =
  | 'challenge_started'
  | 'enrolled'
  | 'verified'
  | 'failed'
  | 'locked'
  | 'expired'
  /** A text-message code went out; `reason`: `login`, `resend` or `enrolment`. */
  | 'code_sent'
  /** The SMS provider failed; `reason`: `sms_failed`. Nothing was counted against the caps. */
  | 'send_failed'
  /** A text message was refused; `reason`: `resend_cooldown` or `sms_quota` (alert on the latter). */
  | 'send_refused'
  | 'skipped'
  | 'skip_honoured'
  /** A session that finished without a factor was sent back to it: the policy asks for one now (`reason`: `off` or `skipped`, how it had finished; absent for a session from before grants were recorded). */
  | 'grant_withdrawn'
  | 'enable_requested'
  /** The portal switch or a firm's policy changed (mode or deadline): `outcome` `before->after` (`inherit`: a firm following the portal), `deadline` and `firm` when they apply. */
  | 'policy_changed'
  /** An admin reset the person's second factor (`actorId`, `actorName`: the admin; `note`: the reason they gave). */
  | 'reset'
  /** A reset was refused; `reason`: `not_signed_in`, `second_factor_required`, `not_admin`, `csrf`, `not_found`, `forbidden`, `self`, `nothing_to_reset` (never enrolled, never skipped) or `second_factor_not_proved` (the actor's own sign-in finished without a factor). */
  | 'reset_refused'
  /** An admin cleared the person's lockout. */
  | 'unlocked'
  /** An unlock was refused; `reason` as for `reset_refused`. */
  | 'unlock_refused'
  /** A change on a policy page was refused; `reason`: `locked`, and on the firm page `looser_than_floor` (looser than the portal or a firm above) or `bad_deadline`. */
  | 'policy_change_refused'
  /** The person signed in with a recovery code (that code is now spent). */
  | 'recovery_code_used'
  /** The person made a new set of recovery codes; the old ones stopped working. */
  | 'recovery_codes_regenerated'
  /** A remembered device let the person in without a code. */
  | 'device_remembered'
  /** The person switched method or phone number; `method` is the new one, `reason` `from_totp` or `from_sms`. */
  | 'method_changed'
  /** The person ended sessions from their settings page; `reason`: `one`, or `others` ("sign out everywhere else", `outcome`: how many). */
  | 'session_ended'
  /** The person forgot one remembered device from their settings page. */
  | 'device_forgotten'
  /** The person added another passkey or security key on their settings page (the first is `enrolled` or `method_changed`). */
  | 'passkey_added'
  /** The person removed one of their passkeys or security keys from their settings page. */
  | 'passkey_removed'
  /** The person turned their second factor off (where the policy makes it optional). */
  | 'disabled'
  /**
   * The person followed the "This wasn't me" link of a notification and confirmed: their
   * sessions were ended, their factor and remembered devices removed, and the second factor
   * is locked until an admin resets it (`reason`: the link's cause, e.g. `enrolled`;
   * `outcome` `sessions_not_ended` when their sessions could not be ended, logged). Also
   * notified, so that the person hears of it even if someone else read the mail.
   */
  | 'not_me';

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
  /** The acting admin's name as the admin pages show it, so that a notification can say who (admin actions by a known admin). */
  readonly actorName?: string;
  /** `allowed` / `refused` and similar outcomes of admin actions. */
  readonly outcome?: string;
  /** A short machine-readable reason (e.g. an error code). */
  readonly reason?: string;
  /** Free text an admin gave: the reason of a reset (`reset`, and a `reset` that `failed`), one line of 3 to 200 characters. */
  readonly note?: string;
  /**
   * On `enrolled`, `method_changed` and `reset`, as `notify` gets them (never `onEvent`): the
   * path of a single-use "This wasn't me" link, under `basePath`, e.g.
   * `/2fa/not-me/eyJ2Ijo…`. Prefix your site's origin and put it in the mail. Absent when the
   * link could not be stored (logged).
   */
  readonly notMePath?: string;
  /** On `policy_changed`: the deadline now in force, `date:2027-01-15` or `days:14`; absent when there is none. */
  readonly deadline?: string;
  /** On `policy_changed` and `policy_change_refused`: the firm (tenant path, e.g. `northwind`) whose policy it was; absent for the portal switch. */
  readonly firm?: string;
}

/** Where the package writes what the host's operators should know. Never receives secrets. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
