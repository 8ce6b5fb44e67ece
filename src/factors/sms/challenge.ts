import type { Config } from '../../options.js';
import { isTwoFactorError, type ErrorCode, type TwoFactorError } from '../../errors.js';
import { SmsQuotaError, type SmsCap, type SmsCodes } from './codes.js';
import { randomId } from '../../secrets.js';
import type { UserRecord } from '../../store/types.js';
import type { SecondFactorSession } from '../../flow/session.js';

/** Why a text message was not sent: the person can retry or wait. */
export type SmsSendRefusal = 'sms_failed' | 'sms_quota' | 'resend_cooldown';

declare module '../../flow/session.js' {
  interface SecondFactorSession {
    /**
     * Text-message codes of this pending sign-in: the random id its codes are bound to (a code
     * works only in the session that asked for it, and its resend cooldown is this sign-in's),
     * when the last one was sent, and why the last send did not happen, for the page; for an
     * hourly cap, which one and when it lifts (config.now() ms); at sign-in, the last four
     * digits of the number, for the verify page's masked number; the id of the last code sent,
     * so that a check counts its try in the round trip of the attempt.
     */
    sms?: { binding: string; sentAt?: number; failure?: SmsSendRefusal; quota?: { cap: SmsCap; until: number }; last4?: string; codeId?: string };
  }
}

export type SmsPurpose = 'login' | 'resend' | 'enrolment' | 'settings';

const refusals: ReadonlySet<ErrorCode> = new Set<SmsSendRefusal>(['sms_failed', 'sms_quota', 'resend_cooldown']);

/** A send the person can recover from on the page (retry, wait); anything else is an outage. */
export function isSmsSendRefusal(error: unknown): error is TwoFactorError & { readonly code: SmsSendRefusal } {
  return isTwoFactorError(error) && refusals.has(error.code);
}

/**
 * Text-message codes for one pending sign-in: the session's binding id, what happened to the
 * last send (for the page), and the audit events. Events name the purpose and the outcome,
 * never the code or the number.
 */
export function createSmsChallenge(config: Config, codes: SmsCodes) {
  /**
   * Sends a new code for this session, worded in `locale`; throws what `SmsCodes.send` throws.
   * `last4`: the number's last digits for the verify page (a resend after a sign-in that found
   * the account locked, which sent nothing).
   */
  async function send(state: SecondFactorSession, phone: string, purpose: SmsPurpose, locale: string, last4?: string): Promise<void> {
    const { userId } = state;
    const t = config.i18n.translator(locale);
    const body = (code: string) => t('sms.body', { issuer: config.issuer, code });
    const newBinding = state.sms === undefined || (purpose === 'login' && state.sms.sentAt === undefined && state.sms.failure === undefined);
    const sms = (state.sms ??= { binding: randomId() });
    if (last4) sms.last4 = last4;
    try {
      const { sentAt, codeId } = await codes.send({ userId, binding: sms.binding, phone, body, newBinding });
      sms.sentAt = sentAt;
      sms.codeId = codeId;
      delete sms.failure;
      delete sms.quota;
      config.emit({ type: 'code_sent', userId, method: 'sms', reason: purpose });
    } catch (error) {
      if (isSmsSendRefusal(error)) {
        sms.failure = error.code;
        if (error instanceof SmsQuotaError) sms.quota = { cap: error.cap, until: config.now() + (error.retryAfterSeconds ?? 0) * 1000 };
        else delete sms.quota;
        config.emit({ type: error.code === 'sms_failed' ? 'send_failed' : 'send_refused', userId, method: 'sms', reason: error.code });
      }
      throw error;
    }
  }

  /**
   * At the password step of a person enrolled with text messages: every sign-in sends (its
   * binding is new, so no earlier text's cooldown applies; the hourly caps still do). A refused
   * or failed send is kept in the session for the verify page (which names the cap and offers
   * "Resend"); only a store outage throws.
   */
  async function sendAtLogin(state: SecondFactorSession, record: UserRecord | null, locale: string): Promise<void> {
    if (record?.method !== 'sms' || !record.phone) return;
    const sms = (state.sms ??= { binding: randomId() });
    if (record.phoneLast4) sms.last4 = record.phoneLast4;
    try {
      await send(state, config.secrets.open(record.phone, state.userId), 'login', locale);
    } catch (error) {
      if (!isSmsSendRefusal(error)) throw error;
    }
  }

  return { send, sendAtLogin };
}

export type SmsChallenge = ReturnType<typeof createSmsChallenge>;
