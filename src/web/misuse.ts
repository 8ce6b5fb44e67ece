import type { ServerResponse } from 'node:http';
import { TwoFactorError } from '../errors.js';

const misuse = 'was used as middleware; call it first: const twoFactor = secondFactor({...}), then app.use(twoFactor.guard) (and twoFactor.router, twoFactor.afterLogin)';

/** The start-up error of `app.use(secondFactor)`. */
export function usedAsMiddleware(): TwoFactorError {
  return new TwoFactorError('invalid_option', `secondFactor(): ${misuse}`);
}

/** True when `secondFactor` was called by Express with a request instead of options. */
export function looksLikeRequest(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'method' in value && 'url' in value && 'headers' in value;
}

/**
 * Makes `app.use(secondFactor)` throw at start-up. Express's `app.use` treats a function with
 * `handle` and `set` as a sub-application and assigns its `mountpath` right away (Express 4
 * and 5 alike): the setter throws there, before anything is mounted. Mounts Express does not
 * inspect (`router.use(secondFactor)`, `app.get(path, secondFactor)`) are caught at the first
 * request by {@link answerMisuse}.
 */
export function trapMountAsApp(factory: (...args: never[]) => unknown): void {
  Object.defineProperties(factory, {
    handle: { value: (_req: unknown, res: unknown) => answerMisuse(res) },
    set: {
      value: () => {
        throw usedAsMiddleware();
      },
    },
    mountpath: {
      set: () => {
        throw usedAsMiddleware();
      },
    },
  });
}

/**
 * The first-request answer of a misused factory: one log line with the code, a plain 500
 * without a stack trace, and no call to next (Express's own handler would print the stack).
 */
export function answerMisuse(res: unknown): void {
  console.error(`second factor: invalid_option: secondFactor() ${misuse}`);
  const response = res as ServerResponse;
  if (typeof response?.end !== 'function' || response.headersSent) throw usedAsMiddleware();
  response.statusCode = 500;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.setHeader('Cache-Control', 'no-store');
  response.end('The sign-in is not configured correctly (invalid_option). The server log says how to fix it.\n');
}
