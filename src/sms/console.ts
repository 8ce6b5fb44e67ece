import { randomUUID } from 'node:crypto';
import { TwoFactorError } from '../errors.js';
import type { SmsSender } from './types.js';

export interface ConsoleSenderOptions {
  /**
   * Where each line goes.
   * @default console.log
   */
  readonly write?: (line: string) => void;
}

// The senders this module made: secondFactor() refuses them in production without an opt-in.
const consoleSenders = new WeakSet<SmsSender>();

/** True for a sender made by {@link consoleSender} (which writes every code to the log). */
export function isConsoleSender(sender: SmsSender): boolean {
  return consoleSenders.has(sender);
}

/**
 * A sender that prints each message as one line (`[sms] to +14155550123: Your code is 123456`)
 * instead of sending it.
 *
 * **For development and the example portal only.** It writes the sign-in code itself to the
 * log, so anyone who can read the log can complete a second factor; never use it in production.
 */
export function consoleSender(options: ConsoleSenderOptions = {}): SmsSender {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`consoleSender: options must be an object, got ${String(options)}`);
  }
  const { write } = options;
  if (write !== undefined && typeof write !== 'function') {
    throw new TypeError(`consoleSender: \`write\` must be a function, got ${typeof write}`);
  }
  // Looked up at each send so that a console.log replaced later (by a test, a logger) is used.
  const writeLine = write ?? ((line: string) => console.log(line));

  const sender: SmsSender = {
    async send(to, body) {
      try {
        writeLine(`[sms] to ${oneLine(to)}: ${oneLine(body)}`);
      } catch (cause) {
        throw new TwoFactorError('sms_failed', 'consoleSender: could not write the message', { cause });
      }
      return { id: `console-${randomUUID()}` };
    },
  };
  consoleSenders.add(sender);
  return sender;
}

// One message must stay one log line, or a crafted body could forge extra log entries.
function oneLine(text: string): string {
  return String(text).replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (char) =>
    char === '\n' ? '\\n' : char === '\r' ? '\\r' : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
