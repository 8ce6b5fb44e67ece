import type { Logger } from '../events.js';
import type { SmsSender } from './types.js';

/**
 * The sender, with every failed send logged as one line through the package's logger.
 *
 * Senders are made before `secondFactor()` and have no logger of their own; wrapping them here
 * logs the failures of every sender (MessageBird, console, the host's own) once, where the
 * operator's logger is known. The line is the rejection's message, which for
 * `messageBirdSender` names the HTTP status, the provider's code and text, and whether it was
 * a refusal, a provider outage, a timeout or an unreachable host.
 */
export function logSendFailures(sender: SmsSender, logger: Logger): SmsSender {
  return {
    async send(to, body) {
      try {
        return await sender.send(to, body);
      } catch (error) {
        logger.error(`second factor: sms_failed: a text message was not sent: ${safeReason(error, to, body)}`);
        throw error;
      }
    },
  };
}

/**
 * The rejection's message with the number and the text cut out. A sender of the host's is not
 * bound by our redaction: whatever it puts in its message, the recipient, the body (which holds
 * the code) and any run of six or more digits never reach the log.
 */
function safeReason(error: unknown, to: string, body: string): string {
  const message = error instanceof Error ? error.message : `a ${typeof error} was thrown`;
  const digits = String(to).replace(/\D/g, '');
  const hidden = [String(body), String(to), digits, digits.slice(-10)].filter((text) => text.length >= 4);
  const cut = hidden.reduce((text, secret) => text.split(secret).join('[redacted]'), message);
  // One log line: control characters (a newline could forge another entry) become spaces.
  return cut.replace(/\d{6,}/g, '[redacted]').replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').slice(0, 500);
}
