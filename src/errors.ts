/**
 * Stable error codes. Pages pick their message by code, JSON answers carry it, tests assert on
 * it; the English text lives in the messages table, not here.
 */
export const ErrorCodes = {
  /** Options given to `secondFactor()` are wrong: thrown at start-up. */
  INVALID_OPTION: 'invalid_option',
  /** The code was well formed but wrong (or already used, or expired). */
  INVALID_CODE: 'invalid_code',
  /** The code was not six digits. */
  MALFORMED_CODE: 'malformed_code',
  /** Too many failed codes: the second factor is locked for a while. */
  LOCKED: 'locked',
  /** The form's CSRF token was missing or wrong. */
  CSRF: 'csrf',
  /** The request body was larger than any form of ours. */
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  /** The request body could not be parsed. */
  BAD_REQUEST: 'bad_request',
  /** No sign-in is waiting for a second factor in this session (or it expired). */
  NOT_PENDING: 'not_pending',
  /** The store (Redis) failed: we cannot verify, so nothing opens. */
  STORE_UNAVAILABLE: 'store_unavailable',
  /** The text-message provider failed to accept the message. */
  SMS_FAILED: 'sms_failed',
  /** A new text message was asked for before the cooldown ended. */
  RESEND_COOLDOWN: 'resend_cooldown',
  /** Too many text messages for this account or number in the last hour. */
  SMS_QUOTA: 'sms_quota',
  /** The phone number is not a valid US number. */
  INVALID_PHONE: 'invalid_phone',
  /** The action is not allowed for this person or in this mode. */
  FORBIDDEN: 'forbidden',
  /** Nothing (that you may see) is there. */
  NOT_FOUND: 'not_found',
  /** `req.session` is missing where the package needs it: express-session is not mounted in front. */
  SESSION_MISSING: 'session_missing',
  /** The session middleware failed before the request had a session (express-session without a `secret`). */
  SESSION_MISCONFIGURED: 'session_misconfigured',
  /** The session middleware's store (the host's, not ours) failed to load the session. */
  SESSION_STORE_UNAVAILABLE: 'session_store_unavailable',
  /** `guard` saw a request for the 2FA pages that `router` never handled: guard mounted first. */
  MOUNT_ORDER: 'mount_order',
  /** `router` is mounted at another path than the `basePath` option. */
  BASE_PATH_MISMATCH: 'base_path_mismatch',
  /** The policy page cannot change the switch: `policy.lockMode` makes the `policy.mode` option win. */
  POLICY_LOCKED: 'policy_locked',
  /**
   * The person said "This wasn't me": no second factor can be proved or enrolled until an
   * admin resets it. 423 Locked: a state of the account, not a refusal of this request (403)
   * or a rate (429); trying again does not help.
   */
  REVIEW_REQUIRED: 'review_required',
  /** A "This wasn't me" link that is malformed, oversized or was altered. */
  NOT_ME_INVALID: 'not_me_invalid',
  /** A "This wasn't me" link that was already used or has expired. */
  NOT_ME_GONE: 'not_me_gone',
  /** An admin reset came without a fitting reason (3 to 200 characters, one plain line): nothing was reset. */
  REASON_REQUIRED: 'reason_required',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const defaultStatus: Record<ErrorCode, number> = {
  invalid_option: 500,
  invalid_code: 401,
  malformed_code: 400,
  locked: 429,
  csrf: 403,
  payload_too_large: 413,
  bad_request: 400,
  not_pending: 401,
  store_unavailable: 503,
  sms_failed: 502,
  resend_cooldown: 429,
  sms_quota: 429,
  invalid_phone: 400,
  forbidden: 403,
  not_found: 404,
  session_missing: 500,
  session_misconfigured: 500,
  session_store_unavailable: 503,
  mount_order: 500,
  base_path_mismatch: 500,
  policy_locked: 409,
  review_required: 423,
  not_me_invalid: 400,
  not_me_gone: 410,
  reason_required: 400,
};

/** The one error type of this package: a stable `code` and the HTTP `status` it maps to. */
export class TwoFactorError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds until trying again makes sense (lockout, cooldown), when known. */
  readonly retryAfterSeconds?: number;

  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TwoFactorError';
    this.code = code;
    this.status = options.status ?? defaultStatus[code];
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isTwoFactorError(value: unknown): value is TwoFactorError {
  return value instanceof TwoFactorError;
}
