import { TwoFactorError, type SmsSender } from 'passport-second-factor';

export interface CapturedMessage {
  readonly to: string;
  readonly body: string;
}

/** An SmsSender that sends nothing: it records each message, and fails on request. */
export interface CapturingSender extends SmsSender {
  readonly sent: CapturedMessage[];
  /** The next `count` sends reject with `sms_failed`, as a provider outage would. */
  failNext(count: number): void;
  /** The code in the last message (to `to`, when given). */
  lastCode(to?: string): string;
}

export function capturingSender(): CapturingSender {
  const sent: CapturedMessage[] = [];
  let failures = 0;
  return {
    sent,
    failNext(count) {
      failures = count;
    },
    lastCode(to) {
      const message = [...sent].reverse().find((m) => to === undefined || m.to === to);
      const code = message && /\b(\d{6})\b/.exec(message.body)?.[1];
      if (!code) throw new Error(`no code was sent${to ? ` to ${to}` : ''}`);
      return code;
    },
    async send(to, body) {
      if (failures > 0) {
        failures -= 1;
        throw new TwoFactorError('sms_failed', 'capturingSender: failing as asked');
      }
      sent.push({ to, body });
      return { id: `captured-${sent.length}` };
    },
  };
}
