import { csrfSync } from 'csrf-sync';
import express, { type Request, type RequestHandler } from 'express';

/** Limits far above any form of ours: a larger body is refused before it is read. */
export const FORM_LIMITS = { extended: false, limit: '4kb', parameterLimit: 20 } as const;

/**
 * Synchronizer tokens kept in the session (csrf-sync). Forms send `_csrf`; API clients may send
 * the `x-csrf-token` header instead. A missing or wrong token is a 403 and changes nothing.
 */
export function createCsrf() {
  return csrfSync({
    getTokenFromRequest: (req: Request) => {
      const fromBody = (req.body as Record<string, unknown> | undefined)?._csrf;
      if (typeof fromBody === 'string') return fromBody;
      const header = req.headers['x-csrf-token'];
      return typeof header === 'string' ? header : undefined;
    },
  });
}

export function isCsrfError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'EBADCSRFTOKEN';
}

/** What every router of ours puts in front of its forms: a small urlencoded parser, then CSRF. */
export function formProtection(): RequestHandler[] {
  return [express.urlencoded(FORM_LIMITS), createCsrf().csrfSynchronisedProtection];
}
