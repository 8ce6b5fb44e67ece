import type { Request, Response, Router } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import type { Accounts } from '../flow/account.js';
import type { SecondFactorSession } from '../flow/session.js';
import type { SmsChallenge } from '../flow/sms-challenge.js';
import { maskPhone, normaliseUsPhone } from '../factors/phone.js';
import type { SmsCodes } from '../factors/sms.js';
import type { UserRecord } from '../store/types.js';
import type { CodeChecks } from './code-check.js';
import { asyncHandler } from './http.js';
import { readCode, readField } from './input.js';
import { lastSendError, phoneProblemKeys, sendRefusalError, type PageError } from './page-errors.js';
import type { Render } from './render.js';

interface Pending {
  readonly state: SecondFactorSession;
  readonly userId: string;
  readonly user: Express.User;
}

/**
 * The text-message pages: phone entry and confirmation at enrolment, and "Resend".
 * Registered before the router's generic pages: its `/enrol` handler takes the choice of text
 * messages and passes the rest on. Returns the verify page and check, which the router's
 * `/verify` calls for people enrolled with SMS (it has read their record already).
 */
export function registerSmsRoutes(
  router: Router,
  deps: {
    config: Config;
    accounts: Accounts;
    render: Render;
    codes: SmsCodes;
    challenge: SmsChallenge;
    requirePending: (req: Request) => Promise<Pending>;
    codeChecks: CodeChecks;
    /** Ends a confirmed enrolment: signs in, or asks to sign in again (policy). */
    finishEnrolment: (req: Request, res: Response) => Promise<void>;
    /** pending -> done after a verified code (and the device remembered, when asked). */
    complete: (req: Request, res: Response, record: UserRecord) => Promise<void>;
  },
) {
  const { config, accounts, render, codes, challenge, requirePending } = deps;
  const { checkSmsCode, sendCodeUnlessLocked } = deps.codeChecks;
  const base = config.basePath;
  const codeMinutes = Math.ceil(config.smsCodeTtlSeconds / 60);

  /** What the code pages share: the masked number, whether a code went out, this sign-in's countdown. */
  async function codePage(pending: Pending, last4: string | undefined, error: PageError | undefined) {
    const sms = pending.state.sms;
    const resendIn = await codes.cooldownSeconds(pending.userId, sms?.binding);
    const shown = error ?? lastSendError(sms, config.now());
    return {
      masked: maskPhone(last4 ?? ''),
      sent: sms?.sentAt !== undefined,
      resendIn,
      codeMinutes,
      ...(shown ? { error: shown } : {}),
    };
  }

  async function renderVerify(req: Request, res: Response, pending: Pending, record: UserRecord, status = 200, error?: PageError) {
    render(req, res, status, 'verify-sms', { title: 'page.title.verify', ...(await codePage(pending, record.phoneLast4, error)) });
  }

  async function renderConfirm(req: Request, res: Response, pending: Pending, status = 200, error?: PageError) {
    const last4 = pending.state.enrolment?.last4;
    render(req, res, status, 'enrol-sms-confirm', { title: 'page.title.enrolSms', ...(await codePage(pending, last4, error)) });
  }

  const renderPhoneForm = (req: Request, res: Response, status = 200, phoneValue = '', error?: PageError) =>
    render(req, res, status, 'enrol-sms', { title: 'page.title.enrolSms', phoneValue, ...(error ? { error } : {}) });

  // --- enrolment -------------------------------------------------------------------------

  router.post(
    '/enrol',
    asyncHandler(async (req, res, next) => {
      if (readField((req.body as Record<string, unknown>).method, 16) !== 'sms') {
        next();
        return;
      }
      const { userId } = await requirePending(req);
      if ((await accounts.standing(userId)).method) throw new TwoFactorError('forbidden', 'already enrolled: verify instead');
      res.redirect(303, `${base}/enrol/sms`);
    }),
  );

  router.get(
    '/enrol/sms',
    asyncHandler(async (req, res) => {
      const { userId } = await requirePending(req);
      if ((await accounts.standing(userId)).method) {
        res.redirect(303, `${base}/verify`);
        return;
      }
      renderPhoneForm(req, res);
    }),
  );

  router.post(
    '/enrol/sms',
    asyncHandler(async (req, res) => {
      const pending = await requirePending(req);
      const { state, userId } = pending;
      if ((await accounts.standing(userId)).method) throw new TwoFactorError('forbidden', 'already enrolled');
      const typed = readField((req.body as Record<string, unknown>).phone, 64);
      const phone = normaliseUsPhone(typed);
      if (!phone.ok) {
        renderPhoneForm(req, res, 400, typed ?? '', { key: phoneProblemKeys[phone.problem] });
        return;
      }
      const sent = await sendCodeUnlessLocked({
        req, res, userId,
        send: () => challenge.send(state, phone.e164, 'enrolment', config.i18n.localeOf(req)),
        refused: (status, error) => renderPhoneForm(req, res, status, typed ?? '', sendRefusalError(error)),
      });
      if (!sent) return;
      // The number joins the pending enrolment only once a code went to it; it reaches the
      // account only when that code comes back.
      state.enrolment = { method: 'sms', sealed: config.secrets.seal(phone.e164, userId), last4: phone.last4 };
      res.redirect(303, `${base}/enrol/sms/confirm`);
    }),
  );

  router.get(
    '/enrol/sms/confirm',
    asyncHandler(async (req, res) => {
      const pending = await requirePending(req);
      if ((await accounts.standing(pending.userId)).method) {
        res.redirect(303, `${base}/verify`);
        return;
      }
      if (pending.state.enrolment?.method !== 'sms') {
        res.redirect(303, `${base}/enrol/sms`);
        return;
      }
      await renderConfirm(req, res, pending);
    }),
  );

  router.post(
    '/enrol/sms/confirm',
    asyncHandler(async (req, res) => {
      const pending = await requirePending(req);
      const { state, userId } = pending;
      const enrolment = state.enrolment;
      if (enrolment?.method !== 'sms' || !enrolment.last4) {
        res.redirect(303, `${base}/enrol/sms`);
        return;
      }
      const { method, generation } = await accounts.standing(userId);
      if (method) throw new TwoFactorError('forbidden', 'already enrolled');
      const phone = config.secrets.open(enrolment.sealed, userId);
      const right = await checkSmsCode({
        req, res, state, userId, phone, reason: 'enrolment',
        read: () => readCode((req.body as Record<string, unknown>).code),
        rerender: (status, error) => renderConfirm(req, res, pending, status, error),
      });
      if (!right) return;
      await accounts.saveSmsEnrolment(userId, enrolment.sealed, enrolment.last4, generation);
      delete state.enrolment;
      config.emit({ type: 'enrolled', userId, method: 'sms' });
      await deps.finishEnrolment(req, res);
    }),
  );

  // --- "Resend": within one sign-in, after its cooldown ----------------------------------------

  router.post(
    '/resend',
    asyncHandler(async (req, res) => {
      const pending = await requirePending(req);
      const { state, userId } = pending;
      const { record, method } = await accounts.standing(userId);
      let phone: string;
      let onVerify: boolean;
      if (method === 'sms' && record?.phone) {
        phone = config.secrets.open(record.phone, userId);
        onVerify = true;
      } else if (!method && state.enrolment?.method === 'sms') {
        phone = config.secrets.open(state.enrolment.sealed, userId);
        onVerify = false;
      } else {
        res.redirect(303, base);
        return;
      }
      const sent = await sendCodeUnlessLocked({
        req, res, userId,
        send: () => challenge.send(state, phone, 'resend', config.i18n.localeOf(req)),
        refused: (status, error) =>
          onVerify ? renderVerify(req, res, pending, record!, status, sendRefusalError(error)) : renderConfirm(req, res, pending, status, sendRefusalError(error)),
      });
      if (!sent) return;
      res.redirect(303, onVerify ? `${base}/verify` : `${base}/enrol/sms/confirm`);
    }),
  );

  // --- verification at sign-in: called by the router's /verify for people enrolled with SMS ---

  return {
    /**
     * The verify page. The code was sent by the password step (a POST); showing or reloading
     * this page sends nothing. The caller has checked the lock.
     */
    showVerifyPage: (req: Request, res: Response, pending: Pending, record: UserRecord) => renderVerify(req, res, pending, record),

    async checkVerifyCode(req: Request, res: Response, pending: Pending, record: UserRecord): Promise<void> {
      const { userId } = pending;
      if (!record.phone) throw new TwoFactorError('store_unavailable', 'an SMS enrolment without a phone number');
      const phone = config.secrets.open(record.phone, userId);
      const right = await checkSmsCode({
        req, res, state: pending.state, userId, phone,
        read: () => readCode((req.body as Record<string, unknown>).code),
        rerender: (status, error) => renderVerify(req, res, pending, record, status, error),
      });
      if (!right) return;
      config.emit({ type: 'verified', userId, method: 'sms' });
      await deps.complete(req, res, record);
    },
  };
}
