import { csrfSync } from 'csrf-sync';
import type { Request } from 'express';

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
