import type { SecondFactorOptions } from 'passport-second-factor';
import { findUser } from './users.js';

/**
 * Where a real portal would send an email: the line it would send, printed. The person's
 * address comes from the directory; a reset says who did it, when and why (the person can tell
 * a real one from an attack); the package gives a "This wasn't me" path, which the mail needs as
 * a full link on the portal's own origin.
 */
export function consoleNotify(origin: () => string, print: (line: string) => void = console.log): NonNullable<SecondFactorOptions['notify']> {
  return (user, event) => {
    const by = event.type === 'reset' && event.actorName ? ` (reset by ${event.actorName} on ${event.at.toISOString().slice(0, 16).replace('T', ' ')} UTC${event.note ? `: "${event.note}"` : ''})` : '';
    const notMe = event.notMePath ? ` — not you? ${origin()}${event.notMePath}` : '';
    print(`[notify] would email ${findUser(user.id)?.email ?? user.id} about ${event.type}${by}${notMe}`);
  };
}
