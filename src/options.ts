import { closest } from 'fastest-levenshtein';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { TwoFactorError } from './errors.js';
import type { Logger, TwoFactorEvent, TwoFactorEventType } from './events.js';
import { createSecretBox, decodeEncryptionKey, type SecretBox } from './secrets.js';
import { MemoryStore } from './store/memory.js';
import type { TwoFactorStore } from './store/types.js';
import { consoleSender, isConsoleSender } from './sms/console.js';
import { logSendFailures } from './sms/failure-log.js';
import { looksLikeRequest, usedAsMiddleware } from './web/misuse.js';
import type { SmsSender } from './sms/types.js';
import { parseAdminOptions, type AdminConfig, type RoleOptions, type UserDirectory } from './admin/options.js';
import { policyOptionsSchema, type PolicyConfig, type PolicyOptions } from './flow/policy.js';
import type { Request } from 'express';
import { createTranslations, type Translations } from './web/i18n.js';
import { createNotMeLinks, DEFAULT_NOT_ME_TTL_SECONDS, notMeCauseOf, type NotMeLinks } from './flow/not-me.js';
import type { MessageKey } from './web/messages.js';

/** Options of `secondFactor()`. Checked once, at start-up; a wrong one throws naming it. */
export interface SecondFactorOptions {
  /** Product name shown in authenticator apps and on the pages, e.g. `"Acme Portal"`. Required. */
  readonly issuer: string;
  /**
   * Where second-factor state lives. `MemoryStore` is for one process in development: in
   * production it is refused unless `allowMemoryStoreInProduction` is set.
   * @default new MemoryStore()
   */
  readonly store?: TwoFactorStore;
  /**
   * Sends text messages. Use `messageBirdSender({...})` in production: a `consoleSender()`
   * (the default) is refused there unless `allowConsoleSenderInProduction` is set. A failed
   * send is logged through `logger`, without the number or the code.
   * @default consoleSender() (prints each message on stdout; development only)
   */
  readonly sms?: SmsSender;
  /**
   * 32 bytes (a Buffer, 64 hex digits or base64) that encrypt secrets at rest. Required in
   * production. In development a random key is made at start-up, with a warning: enrolments
   * then do not survive a restart.
   */
  readonly encryptionKey?: string | Uint8Array;
  /**
   * The stable id of a Passport user.
   * @default (user) => String(user.id)
   */
  readonly userId?: (user: Express.User) => string;
  /**
   * The account name shown in authenticator apps.
   * @default (user) => user.email ?? user.username ?? the user id
   */
  readonly accountName?: (user: Express.User) => string;
  /**
   * Where the host mounts `router`; `afterLogin` and `guard` send people there.
   * @default '/2fa'
   */
  readonly basePath?: string;
  /**
   * The host's sign-in page, for "sign in again".
   * @default '/login'
   */
  readonly loginPath?: string;
  /**
   * Where people go after the second factor when no safe return path was recorded.
   * @default '/'
   */
  readonly successRedirect?: string;
  /**
   * How long a password-only (pending) sign-in waits for the second factor.
   * @default 600
   */
  readonly pendingTimeoutSeconds?: number;
  /**
   * Consecutive wrong codes, across all sessions, before the second factor locks.
   * @default 10
   */
  readonly maxFailedAttempts?: number;
  /**
   * How long a lock lasts, in seconds.
   * @default 900
   */
  readonly lockoutSeconds?: number;
  /**
   * How long a text-message code works, in seconds (at most 600).
   * @default 300
   */
  readonly smsCodeTtlSeconds?: number;
  /**
   * How long after a text message before another may be sent to the same person, in seconds.
   * @default 30
   */
  readonly resendCooldownSeconds?: number;
  /**
   * Text messages per person per hour (sign-in, enrolment and resends together): a cap
   * against SMS pumping.
   * @default 5
   */
  readonly smsPerAccountPerHour?: number;
  /**
   * Text messages per phone number per hour, whoever asks.
   * @default 5
   */
  readonly smsPerNumberPerHour?: number;
  /**
   * Folders searched, in order, for a view before the package's own `views/`: a host
   * overrides any page or partial by putting a file of the same name there.
   * @default []
   */
  readonly views?: string | readonly string[];
  /**
   * Receives every audit event. A throwing or rejecting handler is logged, never fatal.
   * @default no-op
   */
  readonly onEvent?: (event: TwoFactorEvent) => void | Promise<void>;
  /**
   * Tells the person about a change to their sign-in security, e.g. by email: called for
   * `enrolled`, `method_changed`, `reset` (a reset that was done), `locked`,
   * `recovery_code_used`, passkeys added or removed and `not_me`, after `onEvent`. The first
   * three carry `notMePath`, a "This wasn't me" link to put in the mail (prefix your origin).
   * A throwing or rejecting handler is logged, never fatal.
   * @default none
   */
  readonly notify?: (user: { readonly id: string }, event: TwoFactorEvent) => void | Promise<void>;
  /**
   * How long the "This wasn't me" link of an `enrolled`, `method_changed` or `reset`
   * notification works (its `notMePath`), in seconds: from 5 minutes to 30 days.
   * @default 604800 (7 days)
   */
  readonly notMeLinkTtlSeconds?: number;
  /**
   * How long after the person last entered a code their settings page lets them change
   * method, phone or recovery codes, or turn 2FA off, without asking for a code again.
   * @default 600
   */
  readonly freshSecondFactorSeconds?: number;
  /**
   * The host's directory of people, for `adminRouter`: `find(id)` and
   * `search(query, { actor, offset, limit })`. Needs `roles`.
   * @default undefined (adminRouter answers 404 to everything)
   */
  readonly users?: UserDirectory;
  /**
   * `roleOf(user)`, `tenantOf(user)` and the `rules` of who may reset whom.
   * @default undefined (no roles; adminRouter answers 404 to everything)
   */
  readonly roles?: RoleOptions;
  /**
   * An admin reset also signs the person out everywhere: every session whose second-factor
   * state belongs to them is destroyed.
   * @default true
   */
  readonly endSessionsOnReset?: boolean;
  /**
   * Ends every session of a person, for `endSessionsOnReset`. Give it when your session
   * store cannot list its sessions, or keeps too many to scan on each reset.
   * @default destroys the person's sessions found in the session index (`sessionIndex`); with `sessionIndex: false`, those of express-session's store found with its `ids()` and `get()`, or `all()`
   */
  readonly endSessions?: (userId: string) => void | Promise<void>;
  /**
   * Keeps an index of each person's finished sessions in `store` (under the person's hash
   * tag), so that a reset, a method or phone change and turning 2FA off end exactly that
   * person's other sessions, at a cost that follows their own sessions. Each entry lives as
   * long as the session cookie's maxAge, or a day when it has none. `false`: an admin reset
   * scans the session store instead (`endSessions`, when given, wins either way), and settings
   * changes end no other sessions.
   * @default true
   */
  readonly sessionIndex?: boolean;
  /**
   * Where warnings and errors go. Never receives a secret, code or full phone number.
   * @default console
   */
  readonly logger?: Logger;
  /**
   * Production mode: refuses insecure set-ups instead of warning.
   * @default process.env.NODE_ENV === 'production'
   */
  readonly production?: boolean;
  /**
   * Lets `MemoryStore` run in production (a single instance that accepts losing every
   * enrolment on restart).
   * @default false
   */
  readonly allowMemoryStoreInProduction?: boolean;
  /**
   * Lets `consoleSender()` run in production, although it writes every text-message code to
   * stdout (e.g. a staging system whose log only its testers read).
   * @default false
   */
  readonly allowConsoleSenderInProduction?: boolean;
  /**
   * The clock, in milliseconds. For tests.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Picks the locale of a request (e.g. from the user's profile). When it returns nothing or a
   * locale without a table, the browser's Accept-Language decides among the tables we have.
   * @default the best match of Accept-Language among the tables, else 'en'
   */
  readonly locale?: (req: Request) => string | undefined;
  /**
   * Strings by locale, laid over the shipped tables (`en`, `es`): override any string by its
   * key, or add a locale (keys it lacks fall back to English, your English overrides included).
   * @default {}
   */
  readonly messages?: Readonly<Record<string, Readonly<Partial<Record<MessageKey, string>>>>>;
  /**
   * Branding of the pages: the product name in the header (default: `issuer`), a logo, and a
   * stylesheet that replaces ours.
   * @default {}
   */
  readonly brand?: {
    readonly name?: string;
    readonly logoUrl?: string;
    readonly stylesheetUrl?: string;
  };
  /**
   * Who must enrol: the portal-wide switch (`off` / `required` / `optional`), per-role
   * overrides, and whether to sign in again after a first enrolment.
   * @default { mode: 'required' }
   */
  readonly policy?: PolicyOptions;
  /**
   * Who may flip the portal-wide switch on the admin policy page.
   * @default () => false (no one)
   */
  readonly canManagePolicy?: (user: Express.User) => boolean;
  /**
   * Passkeys and security keys (WebAuthn) as a third factor, offered only when this is set:
   * `rpId` is your site's domain (`"portal.example.com"`, or `"localhost"` in development; never
   * an IP address) and `origins` the exact origins your pages are served from
   * (`"https://portal.example.com"`). They are never taken from the request, whose Host header
   * a phishing proxy controls. `userVerification` (fingerprint, face, PIN) defaults to
   * `"preferred"`.
   */
  readonly passkeys?: PasskeyOptions;
}

/** The site as passkeys see it (see SecondFactorOptions.passkeys). */
export interface PasskeyOptions {
  readonly rpId: string;
  readonly origins: readonly string[];
  /** Shown by some authenticators when a passkey is made. @default the issuer */
  readonly rpName?: string;
  /** @default 'preferred' */
  readonly userVerification?: 'required' | 'preferred' | 'discouraged';
}

/** The parsed options: nothing optional, computed once. */
export interface Config {
  readonly issuer: string;
  readonly store: TwoFactorStore;
  readonly sms: SmsSender;
  readonly secrets: SecretBox;
  readonly userId: (user: Express.User) => string;
  readonly accountName: (user: Express.User) => string;
  readonly basePath: string;
  readonly loginPath: string;
  readonly successRedirect: string;
  readonly pendingTimeoutMs: number;
  readonly maxFailedAttempts: number;
  readonly lockoutSeconds: number;
  readonly smsCodeTtlSeconds: number;
  readonly resendCooldownSeconds: number;
  readonly smsPerAccountPerHour: number;
  readonly smsPerNumberPerHour: number;
  readonly viewDirs: readonly string[];
  readonly emit: (event: Omit<TwoFactorEvent, 'at'>) => void;
  /** Issues and checks the "This wasn't me" links of notifications. */
  readonly notMe: NotMeLinks;
  readonly freshSecondFactorMs: number;
  readonly logger: Logger;
  readonly sessionIndex: boolean;
  readonly production: boolean;
  readonly now: () => number;
  /** `roles.roleOf`, or no role for anyone. */
  readonly roleOf: (user: Express.User) => string | undefined;
  /** Present when both `users` and `roles` were given. */
  readonly admin: AdminConfig | undefined;
  /** The policy options, and `roles.tenantOf` for the firm policies (absent without `roles`). */
  readonly policy: PolicyConfig;
  readonly canManagePolicy: (user: Express.User) => boolean;
  readonly i18n: Translations;
  readonly brand: { readonly name: string; readonly logoUrl: string | undefined; readonly stylesheetUrl: string | undefined };
  /** The passkey relying party; absent when passkeys are not offered. */
  readonly passkeys: { readonly id: string; readonly name: string; readonly origins: readonly string[]; readonly userVerification: 'required' | 'preferred' | 'discouraged' } | undefined;
}

const fn = (what: string) =>
  z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', { message: `must be a function (${what})` });

const localPath = z
  .string()
  .refine((value) => /^\/(?![/\\])[^\s]*$/.test(value), { message: 'must be a path on this site starting with "/"' });

const positiveInt = (max: number) => z.number().int().positive().max(max);

const schema = z.strictObject({
  issuer: z.string().trim().min(1, 'must be a non-empty string').max(64, 'must be at most 64 characters').refine((v) => !v.includes(':'), 'must not contain ":" (authenticator apps split on it)'),
  store: z
    .custom<TwoFactorStore>(
      (value) =>
        typeof value === 'object' && value !== null &&
        ['getUser', 'saveUser', 'deleteUser', 'get', 'set', 'setIfAbsent', 'take', 'takeIfEqual', 'delete', 'increment', 'setIfGreater', 'addMember', 'members', 'removeMembers', 'createLimiter'].every(
          (method) => typeof (value as Record<string, unknown>)[method] === 'function',
        ),
      { message: 'must implement TwoFactorStore (MemoryStore, RedisStore or your own)' },
    )
    .optional(),
  sms: z
    .custom<SmsSender>((value) => typeof value === 'object' && value !== null && typeof (value as SmsSender).send === 'function', {
      message: 'must be an SmsSender: an object with send(to, body)',
    })
    .optional(),
  encryptionKey: z
    .custom<string | Uint8Array>((value) => (typeof value === 'string' || value instanceof Uint8Array) && decodeEncryptionKey(value) !== undefined, {
      message: 'must be 32 bytes: a Buffer, 64 hex digits or base64 (make one with `openssl rand -base64 32`)',
    })
    .optional(),
  userId: fn('user) => string').optional(),
  accountName: fn('user) => string').optional(),
  basePath: localPath.optional(),
  loginPath: localPath.optional(),
  successRedirect: localPath.optional(),
  pendingTimeoutSeconds: positiveInt(3600).optional(),
  maxFailedAttempts: positiveInt(100).optional(),
  lockoutSeconds: positiveInt(86_400).optional(),
  smsCodeTtlSeconds: positiveInt(600).optional(),
  resendCooldownSeconds: positiveInt(3600).optional(),
  smsPerAccountPerHour: positiveInt(1000).optional(),
  smsPerNumberPerHour: positiveInt(1000).optional(),
  views: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  onEvent: fn('event) => void').optional(),
  notify: fn('user, event) => void').optional(),
  notMeLinkTtlSeconds: z.number().int().min(300).max(30 * 86_400).optional(),
  freshSecondFactorSeconds: positiveInt(86_400).optional(),
  logger: z
    .custom<Logger>(
      (value) => typeof value === 'object' && value !== null && ['info', 'warn', 'error'].every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
      { message: 'must have info, warn and error methods' },
    )
    .optional(),
  production: z.boolean().optional(),
  allowMemoryStoreInProduction: z.boolean().optional(),
  allowConsoleSenderInProduction: z.boolean().optional(),
  now: fn(') => milliseconds').optional(),
  users: z.custom<UserDirectory>((value) => typeof value === 'object' && value !== null, { message: 'must be an object with find(id) and search(query, { actor, offset, limit })' }).optional(),
  roles: z.custom<RoleOptions>((value) => typeof value === 'object' && value !== null, { message: 'must be an object with roleOf(user), tenantOf(user) and optional rules' }).optional(),
  endSessionsOnReset: z.boolean().optional(),
  endSessions: fn('userId) => void').optional(),
  sessionIndex: z.boolean().optional(),
  locale: fn('req) => string | undefined').optional(),
  messages: z.record(z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'keys must be locale tags like "en" or "pt-BR"'), z.record(z.string(), z.string())).optional(),
  brand: z
    .strictObject({
      name: z.string().trim().min(1).max(80).optional(),
      logoUrl: z.string().min(1).optional(),
      stylesheetUrl: z.string().min(1).optional(),
    })
    .optional(),
  policy: policyOptionsSchema.optional(),
  canManagePolicy: fn('user) => boolean').optional(),
  passkeys: z
    .strictObject({
      rpId: z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a lower-case domain such as "portal.example.com" or "localhost"').refine((v) => !/^[0-9.]+$/.test(v), 'must be a domain, not an IP address (WebAuthn refuses IP addresses as an RP ID)'),
      origins: z.array(z.string()).min(1, 'must list at least one origin, such as "https://portal.example.com"'),
      rpName: z.string().trim().min(1).max(64).optional(),
      userVerification: z.enum(['required', 'preferred', 'discouraged']).optional(),
    })
    .optional(),
});

const knownOptions = Object.keys(schema.shape);

/**
 * The passkey relying party, or none (passkeys not offered). Each origin must be an origin
 * (no path), on the RP ID or a subdomain of it, over https (http only for localhost).
 */
function relyingParty(o: z.infer<typeof schema>): Config['passkeys'] {
  if (!o.passkeys) return undefined;
  const { rpId, origins } = o.passkeys;
  for (const origin of origins) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    const problem = !url || url.origin !== origin ? 'is not an origin (scheme, host and port only, e.g. "https://portal.example.com")'
      : url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`) ? `is not on the RP ID ${JSON.stringify(rpId)} or a subdomain of it`
      : url.protocol !== 'https:' && url.hostname !== 'localhost' ? 'must use https (http is allowed only for localhost)'
      : undefined;
    if (problem) throw invalid(`passkeys.origins: ${JSON.stringify(origin)} ${problem}.`);
  }
  return { id: rpId, name: o.passkeys.rpName ?? o.issuer, origins: [...origins], userVerification: o.passkeys.userVerification ?? 'preferred' };
}

function invalid(message: string): TwoFactorError {
  return new TwoFactorError('invalid_option', `secondFactor(): ${message}`);
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Turns the first problem zod found into one sentence that names the option and the value. */
function explain(issues: readonly z.core.$ZodIssue[], input: Record<string, unknown>): string {
  const unknown = issues.find((issue) => issue.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') {
    const key = unknown.keys[0] ?? '';
    const parent = unknown.path.join('.');
    const field: unknown = parent ? (schema.shape as Record<string, unknown>)[parent] : schema;
    const inner = field instanceof z.ZodOptional ? field.unwrap() : field;
    const siblings = inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
    const name = parent ? `${parent}.${key}` : key;
    return `unknown option "${name}"${siblings.length ? `; did you mean "${parent ? `${parent}.` : ''}${closest(key, siblings)}"?` : ''}`;
  }
  const issue = issues[0]!;
  const name = issue.path.join('.');
  const value = issue.path.reduce<unknown>((at, segment) => (at && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[segment as PropertyKey] : undefined), input);
  if (value === undefined) return `option "${name}" is required`;
  // Never echo a key: the value of encryptionKey is not shown.
  const shown = name === 'encryptionKey' ? '' : ` (got ${describeValue(value)})`;
  const reason =
    issue.code === 'invalid_type'
      ? `must be a ${issue.expected}`
      : issue.code === 'invalid_value'
        ? `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
        : issue.message.replace(/^Too (small|big): expected \w+ to be /, 'must be ');
  return `option "${name}" ${reason}${shown}`;
}

export function parseOptions(options: SecondFactorOptions): Config {
  if (options === undefined || options === null || typeof options !== 'object') {
    throw invalid('expects an options object, e.g. secondFactor({ issuer: "Acme Portal" })');
  }
  const raw = options as unknown as Record<string, unknown>;
  if (looksLikeRequest(raw)) throw usedAsMiddleware();
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw invalid(explain(parsed.error.issues, raw));
  const o = parsed.data;

  const production = o.production ?? process.env.NODE_ENV === 'production';
  const logger: Logger = o.logger ?? console;

  checkStore(o, production);
  const key = encryptionKeyOf(o, production, logger);
  const sms = chooseSender(o, production);

  const now = (o.now as SecondFactorOptions['now']) ?? Date.now;
  const store = o.store ?? new MemoryStore();
  const basePath = trimSlash(o.basePath ?? '/2fa');
  const notMe = createNotMeLinks({ store, masterKey: key, ttlSeconds: o.notMeLinkTtlSeconds ?? DEFAULT_NOT_ME_TTL_SECONDS, now });
  const emit = createEmit(o, logger, now, { links: notMe, basePath });

  const userId = (o.userId as SecondFactorOptions['userId']) ?? defaultUserId;
  return Object.freeze({
    issuer: o.issuer,
    store,
    sms: logSendFailures(sms, logger),
    secrets: createSecretBox(key),
    userId,
    accountName: (o.accountName as SecondFactorOptions['accountName']) ?? ((user: Express.User) => defaultAccountName(user, userId)),
    basePath,
    loginPath: o.loginPath ?? '/login',
    successRedirect: o.successRedirect ?? '/',
    pendingTimeoutMs: (o.pendingTimeoutSeconds ?? 600) * 1000,
    maxFailedAttempts: o.maxFailedAttempts ?? 10,
    lockoutSeconds: o.lockoutSeconds ?? 900,
    smsCodeTtlSeconds: o.smsCodeTtlSeconds ?? 300,
    resendCooldownSeconds: o.resendCooldownSeconds ?? 30,
    smsPerAccountPerHour: o.smsPerAccountPerHour ?? 5,
    smsPerNumberPerHour: o.smsPerNumberPerHour ?? 5,
    viewDirs: o.views === undefined ? [] : typeof o.views === 'string' ? [o.views] : [...o.views],
    emit,
    notMe,
    freshSecondFactorMs: (o.freshSecondFactorSeconds ?? 600) * 1000,
    logger,
    sessionIndex: o.sessionIndex ?? true,
    production,
    now,
    ...parseAdminOptions({ users: o.users, roles: o.roles, endSessionsOnReset: o.endSessionsOnReset, endSessions: o.endSessions }),
    i18n: createTranslations({
      ...(o.messages ? { messages: o.messages } : {}),
      ...(o.locale ? { locale: o.locale as NonNullable<SecondFactorOptions['locale']> } : {}),
    }),
    brand: { name: o.brand?.name ?? o.issuer, logoUrl: o.brand?.logoUrl, stylesheetUrl: o.brand?.stylesheetUrl },
    passkeys: relyingParty(o),
    // The firm policies need each person's tenant: read from `roles`, checked there.
    policy: { ...o.policy, ...(o.roles ? { tenantOf: (o.roles as RoleOptions).tenantOf } : {}) },
    canManagePolicy: (o.canManagePolicy as SecondFactorOptions['canManagePolicy']) ?? (() => false),
  });
}

/** State kept in one process only must be chosen on purpose in production. */
function checkStore(o: z.infer<typeof schema>, production: boolean): void {
  if (production && !o.store && !o.allowMemoryStoreInProduction) {
    throw invalid('option "store" is required in production (the default MemoryStore keeps state in one process only); pass a RedisStore, or set allowMemoryStoreInProduction: true');
  }
  if (production && o.store instanceof MemoryStore && !o.allowMemoryStoreInProduction) {
    throw invalid('option "store" is a MemoryStore in production; pass a RedisStore, or set allowMemoryStoreInProduction: true');
  }
}

/** The key of the secret box: required in production; in development a random one, with a warning. */
function encryptionKeyOf(o: z.infer<typeof schema>, production: boolean, logger: Logger): Buffer {
  let key = o.encryptionKey === undefined ? undefined : decodeEncryptionKey(o.encryptionKey);
  if (!key) {
    if (production) throw invalid('option "encryptionKey" is required in production (32 bytes; make one with `openssl rand -base64 32`)');
    logger.warn('second factor: no encryptionKey given; using a random key for this process only (development). Enrolments will not survive a restart.');
    key = randomBytes(32);
  }
  return key;
}

/** `config.emit`: each event to `onEvent`, and the ones the person is told about to `notify`. */
function createEmit(o: z.infer<typeof schema>, logger: Logger, now: () => number, notMe: NotMeLinkSource): (event: Omit<TwoFactorEvent, 'at'>) => void {
  const onEvent = o.onEvent as SecondFactorOptions['onEvent'];
  const notify = o.notify as SecondFactorOptions['notify'];
  // An audit or mail hook that fails must not decide a sign-in: log it and go on.
  const call = (hook: 'onEvent' | 'notify', type: string, run: () => void | Promise<void>) => {
    try {
      Promise.resolve(run()).catch((error: unknown) => logger.error(`second factor: ${hook} rejected for "${type}": ${String(error)}`));
    } catch (error) {
      logger.error(`second factor: ${hook} threw for "${type}": ${String(error)}`);
    }
  };
  return (event: Omit<TwoFactorEvent, 'at'>) => {
    if (!onEvent && !notify) return;
    const full: TwoFactorEvent = { ...event, at: new Date(now()) };
    if (onEvent) call('onEvent', event.type, () => onEvent(full));
    if (notify && notifiedTypes.has(event.type) && event.outcome !== 'failed') {
      call('notify', event.type, async () => notify({ id: event.userId }, await withNotMeLink(notMe, logger, full)));
    }
  };
}

/** What createEmit needs to put a "This wasn't me" link in a notification. */
interface NotMeLinkSource {
  readonly links: NotMeLinks;
  readonly basePath: string;
}

/**
 * The notified event with its `notMePath`, for the causes that carry one, once the link's
 * store write is done (a link handed out before it could not be confirmed). Only `notify`
 * gets it: a link is a capability, and audit logs (`onEvent`) must not hold one. A failed
 * write is logged and the person is told anyway, without the link: createEmit runs inside a
 * sign-in, which a mail hook never decides.
 */
async function withNotMeLink(notMe: NotMeLinkSource, logger: Logger, event: TwoFactorEvent): Promise<TwoFactorEvent> {
  const cause = notMeCauseOf(event.type);
  if (!cause) return event;
  const { token, stored } = notMe.links.issue(event.userId, cause);
  try {
    await stored;
  } catch (error) {
    logger.error(`second factor: the "This wasn't me" link for "${event.type}" could not be stored; notifying without it: ${(error as Error).message}`);
    return event;
  }
  // basePath '/' would make '//not-me/…', a link to another host.
  return { ...event, notMePath: `${notMe.basePath === '/' ? '' : notMe.basePath}/not-me/${token}` };
}

/** The sender; like the memory store, one that prints every code to stdout must be chosen on purpose in production. */
function chooseSender(o: z.infer<typeof schema>, production: boolean): SmsSender {
  const sms = o.sms ?? consoleSender();
  if (production && isConsoleSender(sms) && !o.allowConsoleSenderInProduction) {
    const what = o.sms ? 'is a consoleSender() in production (it prints' : 'is required in production (the default consoleSender() prints';
    throw invalid(`option "sms" ${what} every sign-in code to stdout); pass sms: messageBirdSender({ accessKey, originator }), or set allowConsoleSenderInProduction: true`);
  }
  return sms;
}

/** What the person is told about (`notify`): changes to how they sign in, and alarms. */
const notifiedTypes: ReadonlySet<TwoFactorEventType> = new Set<TwoFactorEventType>(['enrolled', 'method_changed', 'reset', 'locked', 'recovery_code_used', 'passkey_added', 'passkey_removed', 'not_me']);

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function defaultUserId(user: Express.User): string {
  const id = (user as { id?: unknown }).id;
  if ((typeof id !== 'string' || id === '') && typeof id !== 'number') {
    throw new TypeError('secondFactor(): the signed-in user has no `id`; pass the `userId` option');
  }
  return String(id);
}

function defaultAccountName(user: Express.User, userId: (user: Express.User) => string): string {
  const record = user as { email?: unknown; username?: unknown };
  if (typeof record.email === 'string' && record.email) return record.email;
  if (typeof record.username === 'string' && record.username) return record.username;
  return userId(user);
}
