import type { RequestHandler, Router } from 'express';
import { createAccounts } from './flow/account.js';
import { createAttemptLimiter } from './flow/attempts.js';
import { createGate } from './flow/gate.js';
import { parseOptions, type SecondFactorOptions } from './options.js';
import { createRenderer } from './web/render.js';
import { createUserRouter } from './web/router.js';

export interface SecondFactor {
  /** Use right after `passport.authenticate(...)` on your login route. */
  readonly afterLogin: RequestHandler;
  /** The person's pages; mount at `basePath` (default `/2fa`). */
  readonly router: Router;
  /** Mount after `router` and before everything the second factor protects. */
  readonly guard: RequestHandler;
}

/** Creates the second-factor gate. Options are checked here, once; a wrong one throws. */
export function secondFactor(options: SecondFactorOptions): SecondFactor {
  const config = parseOptions(options);
  const gate = createGate(config);
  const accounts = createAccounts(config);
  const attempts = createAttemptLimiter(config);
  const render = createRenderer(config);
  const router = createUserRouter({ config, gate, accounts, attempts, render });
  return Object.freeze({ afterLogin: gate.afterLogin, guard: gate.guard, router });
}

export type { SecondFactorOptions } from './options.js';
export { TwoFactorError, ErrorCodes, type ErrorCode } from './errors.js';
export type { TwoFactorEvent, TwoFactorEventType, Logger } from './events.js';
export type { TwoFactorStore, UserRecord, FactorMethod, LimiterOptions } from './store/types.js';
export { MemoryStore } from './store/memory.js';
export { RedisStore } from './store/redis.js';
export type { SmsSender } from './sms/types.js';
export { consoleSender } from './sms/console.js';
export { messageBirdSender, type MessageBirdSenderOptions } from './sms/messagebird.js';
