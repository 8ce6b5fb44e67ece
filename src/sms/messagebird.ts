import { inspect } from 'node:util';
import { closest } from 'fastest-levenshtein';
import { initClient, type MessageBird, type MessageParameters } from 'messagebird';
import { TwoFactorError } from '../errors.js';
import type { SmsSender } from './types.js';

export interface MessageBirdSenderOptions {
  /** A MessageBird live (or test) access key. Never echoed in errors. */
  readonly accessKey: string;
  /** The sender shown on the phone: up to 11 letters and digits, or a phone number. */
  readonly originator: string;
  /**
   * How long one send may take, in milliseconds, before it fails with `sms_failed`.
   * @default 10000
   */
  readonly timeoutMs?: number;
}

const optionNames = ['accessKey', 'originator', 'timeoutMs'] as const;
const defaultTimeoutMs = 10_000;
// setTimeout fires at once for delays above 2^31-1 ms.
const maxTimeoutMs = 2 ** 31 - 1;

const alphanumericOriginator = /^[A-Za-z0-9]{1,11}$/;
const phoneOriginator = /^\+?[1-9][0-9]{1,14}$/;
const e164 = /^\+[1-9][0-9]{1,14}$/;
// What Node accepts in a header value: a bad character would throw inside the SDK at each send.
const headerSafe = /^[\x21-\x7e]+$/;

/** Sends text messages through MessageBird's SMS API with the official `messagebird` SDK. */
export function messageBirdSender(options: MessageBirdSenderOptions): SmsSender {
  const { accessKey, originator, timeoutMs } = parseOptions(options);
  // The SDK has a fixed host and sends through https.globalAgent: a proxy is set up there.
  const client = initClient(accessKey, timeoutMs);
  const secrets = [accessKey];

  return {
    async send(to, body) {
      // A comma would make the SDK send to several numbers: only one E.164 number goes out.
      if (typeof to !== 'string' || !e164.test(to)) {
        throw new TwoFactorError('sms_failed', 'MessageBird: the recipient is not an E.164 phone number');
      }
      if (typeof body !== 'string' || body === '') {
        throw new TwoFactorError('sms_failed', 'MessageBird: the message body is empty');
      }
      // Built fresh for every send: the SDK rewrites `recipients` in place.
      const params: MessageParameters = { originator, recipients: [to.slice(1)], body };
      const started = Date.now();
      const outcome = await createMessage(client, params, timeoutMs);
      // The number too (with and without its +): a refusal that names the recipient reaches the logs.
      const hidden = [...secrets, body, to, to.slice(1)];
      // Our deadline says so itself; the SDK's idle timeout is told by the time taken.
      if (outcome.error !== undefined) throw failure(outcome.error, hidden, { timedOut: outcome.timedOut === true || Date.now() - started >= timeoutMs, timeoutMs });
      const id = (outcome.reply as { id?: unknown } | null)?.id;
      // The SDK reports a 5xx whose JSON has no `errors` as a success: only an id proves acceptance.
      if (typeof id !== 'string' || id === '') throw missingId(outcome.reply, hidden);
      return { id };
    },
  };
}

function parseOptions(options: MessageBirdSenderOptions): Required<MessageBirdSenderOptions> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('messageBirdSender: options must be an object with `accessKey` and `originator`');
  }
  for (const name of Object.keys(options)) {
    if (!(optionNames as readonly string[]).includes(name)) {
      throw new TypeError(
        `messageBirdSender: unknown option \`${name}\` (did you mean \`${closest(name, [...optionNames])}\`?)`,
      );
    }
  }
  const { accessKey, originator, timeoutMs = defaultTimeoutMs } = options;

  // The key's value is never put in these messages: they end up in start-up logs.
  if (typeof accessKey !== 'string' || accessKey.trim() === '') {
    throw new TypeError('messageBirdSender: `accessKey` is required (a MessageBird access key)');
  }
  if (!headerSafe.test(accessKey)) {
    throw new TypeError('messageBirdSender: `accessKey` contains spaces or characters that cannot be sent');
  }
  if (typeof originator !== 'string' || originator === '') {
    throw new TypeError('messageBirdSender: `originator` is required (up to 11 letters and digits, or a phone number)');
  }
  if (!alphanumericOriginator.test(originator) && !phoneOriginator.test(originator)) {
    throw new TypeError(
      `messageBirdSender: \`originator\` must be up to 11 letters and digits or a phone number, got ${JSON.stringify(originator)}`,
    );
  }
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > maxTimeoutMs) {
    throw new TypeError(`messageBirdSender: \`timeoutMs\` must be a positive whole number of milliseconds, got ${String(timeoutMs)}`);
  }
  return { accessKey, originator, timeoutMs };
}

type CreateOutcome = { error: unknown; reply?: undefined; timedOut?: true } | { error?: undefined; reply: unknown; timedOut?: undefined };

function createMessage(client: MessageBird, params: MessageParameters, timeoutMs: number): Promise<CreateOutcome> {
  return new Promise((resolve) => {
    // The SDK's own timeout is an idle timeout on the socket: a server that trickles bytes
    // would hold the send forever. This deadline bounds the whole send; the SDK's request is
    // left to its idle timeout, since the SDK gives no handle to abort it.
    const deadline = setTimeout(() => {
      // Marked, not inferred from the clock: a timer may fire a millisecond before Date.now()
      // says the time is up, and the log would then blame an unreachable provider.
      resolve({ error: new Error(`no complete reply within ${timeoutMs} ms`), timedOut: true });
    }, timeoutMs);
    try {
      client.messages.create(params, (error, reply) => {
        clearTimeout(deadline);
        resolve(error ? { error } : { reply });
      });
    } catch (error) {
      clearTimeout(deadline);
      resolve({ error });
    }
  });
}

interface SdkError extends Error {
  statusCode?: number;
  errors?: Array<{ code?: unknown; description?: unknown; parameter?: unknown }>;
  error?: NodeJS.ErrnoException;
}

/**
 * The rejection of a failed send. Its message is the one line the package logs (see
 * `logSendFailures`): the HTTP status, MessageBird's error code and text, and whether the
 * provider refused the message, failed on its side, timed out or could not be reached.
 */
function failure(cause: unknown, secrets: readonly string[], timing: { timedOut: boolean; timeoutMs: number }): TwoFactorError {
  return new TwoFactorError('sms_failed', redact(describeFailure(cause, timing).slice(0, 500), secrets), { cause: safeCause(cause, secrets) });
}

function describeFailure(cause: unknown, timing: { timedOut: boolean; timeoutMs: number }): string {
  const error = (cause ?? {}) as SdkError;
  const status = typeof error.statusCode === 'number' ? error.statusCode : undefined;
  if (status !== undefined) {
    // A 4xx is MessageBird refusing this message (key, originator, number); a 5xx is its outage.
    const what = status >= 500 ? `MessageBird failed on its side (HTTP ${status})` : `MessageBird refused the message (HTTP ${status})`;
    if (!Array.isArray(error.errors) || error.errors.length === 0) return `${what}: the reply was not JSON`;
    const reasons = error.errors.map((e) => `${String(e?.description ?? 'no description')} (code ${String(e?.code ?? '?')})${e?.parameter ? `, parameter ${String(e.parameter)}` : ''}`);
    return `${what}: ${reasons.join('; ')}`;
  }
  // The SDK's own idle timeout surfaces as "socket hang up" (ECONNRESET): the time taken tells it apart.
  if (timing.timedOut) return `MessageBird timed out: no complete reply within ${timing.timeoutMs} ms${error.error?.message ? ` (${error.error.message})` : ''}`;
  if (typeof error.error?.code === 'string') return `MessageBird could not be reached (${error.error.code}: ${error.error.message})`;
  return `MessageBird request failed (${error instanceof Error ? error.message : 'unknown error'})`;
}

/** A reply without an id: the SDK does not pass on the HTTP status of a reply without `errors`. */
function missingId(reply: unknown, secrets: readonly string[]): TwoFactorError {
  const said = (reply as { message?: unknown } | null)?.message;
  const detail = typeof said === 'string' ? `; it said: ${said.slice(0, 200)}` : '';
  return new TwoFactorError('sms_failed', redact(`MessageBird failed on its side: the reply carried no message id (HTTP status not reported by the SDK)${detail}`, secrets));
}

// The cause goes to the host's logs as is: a provider error that echoes a secret is replaced by
// a redacted copy of its message (its stack and `errors` would repeat the secret).
function safeCause(cause: unknown, secrets: readonly string[]): unknown {
  const printed = inspect(cause, { depth: 10, showHidden: true });
  if (!secrets.some((secret) => secret && printed.includes(secret))) return cause;
  const message = cause instanceof Error ? cause.message : 'MessageBird error';
  return Object.assign(new Error(redact(message, secrets)), { statusCode: (cause as SdkError).statusCode });
}

// Provider texts are not ours: should one ever echo the key, the message or the number, it is cut out.
function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((result, secret) => (secret ? result.split(secret).join('[redacted]') : result), text);
}

