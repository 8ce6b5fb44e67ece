import type { Request } from 'express';
import { TwoFactorError } from '../errors.js';

/*
 * Run-time checks of how the host wired the package, for the mistakes start-up cannot see.
 * Each answers with a stable code and a message that says what to change, instead of a 503
 * blamed on our store or an endless redirect.
 */

const mountSession = 'mount express-session before passport and the second factor, e.g. app.use(session({ secret, resave: false, saveUninitialized: false }))';

/** `req.session` is missing where `where` needs it. */
export function sessionMissing(where: string, cause?: unknown): TwoFactorError {
  return new TwoFactorError('session_missing', `secondFactor: ${where} found no req.session: ${mountSession} (or its store is disconnected)`, cause === undefined ? {} : { cause });
}

/**
 * What an error that is not ours means when the request has no session: the session
 * middleware failed, not the second factor's store. express-session sets `req.sessionStore`
 * just before it reads the store, after its own checks (the secret), so its presence tells a
 * failing session store from a session middleware that could not even start.
 */
export function sessionFailure(err: unknown, req: Request): TwoFactorError | undefined {
  if (req.session) return undefined;
  const message = err instanceof Error ? err.message : String(err);
  if ((req as { sessionStore?: unknown }).sessionStore !== undefined) {
    return new TwoFactorError(
      'session_store_unavailable',
      'secondFactor: the session store given to express-session failed to load the session (is it reachable?)',
      { cause: err },
    );
  }
  // Passport's "Login sessions require session support. Did you forget to use `express-session`…".
  if (/session support|express-session/i.test(message)) return sessionMissing('passport', err);
  const fix = /secret/i.test(message) ? 'pass session({ secret: … }) (a long random string, e.g. from an environment variable)' : 'check its options and the middleware mounted before it';
  return new TwoFactorError('session_misconfigured', `secondFactor: the session middleware failed before the request had a session: ${fix}`, { cause: err });
}

/** Checks that `router` is mounted at `basePath` and in front of `guard`. */
export function createMountChecks(basePath: string) {
  // Requests `router` has seen: a request for the 2FA pages that reaches `guard` unseen means
  // the guard runs first, and its redirect to basePath would come back to it for ever.
  const seenByRouter = new WeakSet<Request>();
  const base = basePath.toLowerCase();
  const underBase = (path: string) => base === '/' || path === base || path.startsWith(`${base}/`);

  /** In `router`, first: marks the request, and refuses a mount at another path than basePath. */
  function routerMismatch(req: Request): TwoFactorError | undefined {
    seenByRouter.add(req);
    const mounted = req.baseUrl || '/';
    // Express matches mount paths case-insensitively: "/2FA/verify" reaches app.use('/2fa', …).
    if (mounted.toLowerCase() === base) return undefined;
    return new TwoFactorError(
      'base_path_mismatch',
      `secondFactor: router is mounted at "${mounted}" but the basePath option is "${basePath}" (where afterLogin and guard send people): mount it with app.use('${basePath}', twoFactor.router), or pass basePath: '${mounted}'`,
    );
  }

  /** In `guard`, before it redirects: a request for the pages themselves means a loop. */
  function guardFirst(req: Request): TwoFactorError | undefined {
    const path = req.originalUrl.split('?')[0] ?? '';
    if (!underBase(path.toLowerCase()) || seenByRouter.has(req)) return undefined;
    return new TwoFactorError(
      'mount_order',
      `secondFactor: guard received ${req.method} ${path} before router handled it, and would redirect it to itself: mount the router first, app.use('${basePath}', twoFactor.router), then app.use(twoFactor.guard); or, if the router is mounted at another path, set the basePath option to that path`,
    );
  }

  return { routerMismatch, guardFirst };
}

export type MountChecks = ReturnType<typeof createMountChecks>;
