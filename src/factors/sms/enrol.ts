import type { Request, Response } from 'express';
import { TwoFactorError } from '../../errors.js';
import { asyncHandler } from '../../http.js';
import type { PageError } from '../../web/page-errors.js';
import type { Person } from '../contract.js';
import { checkSmsCode, codePage, pendingPhone, phoneError, renderVerify, sendCodeUnlessLocked, typedPhone, type SmsPages } from './pages.js';

// The text-message enrolment at sign-in: phone entry, a code to it, its confirmation; and
// "Resend" within one sign-in, after its cooldown.

const renderPhoneForm = (req: Request, res: Response, pages: SmsPages, status = 200, phoneValue = '', error?: PageError) =>
  pages.context.render(req, res, status, 'enrol-sms', { title: 'page.title.enrolSms', phoneValue, ...(error ? { error } : {}) });

async function renderConfirm(req: Request, res: Response, pages: SmsPages, pending: Person, status = 200, error?: PageError): Promise<void> {
  const last4 = pending.state.enrolment?.last4;
  pages.context.render(req, res, status, 'enrol-sms-confirm', { title: 'page.title.enrolSms', ...codePage(pages, pending, last4, error) });
}

/** GET /enrol/sms: the phone form. */
export function showPhoneForm(pages: SmsPages) {
  return asyncHandler(async (req, res) => {
    if (await pages.context.pendingToEnrol(req, res)) renderPhoneForm(req, res, pages);
  });
}

/** POST /enrol/sms: a code goes to the number; only then does the number join the enrolment. */
export function submitPhone(pages: SmsPages) {
  const { config, accounts, requirePending } = pages.context;
  return asyncHandler(async (req, res) => {
    const pending = await requirePending(req);
    const { state, userId } = pending;
    if ((await accounts.standing(userId)).method) throw new TwoFactorError('forbidden', 'already enrolled');
    const { typed, phone } = typedPhone(req);
    if (!phone.ok) {
      renderPhoneForm(req, res, pages, 400, typed, phoneError(phone));
      return;
    }
    const sent = await sendCodeUnlessLocked(pages, {
      req, res, userId,
      send: () => pages.challenge.send(state, phone.e164, 'enrolment', config.i18n.localeOf(req)),
      refused: (status, error) => renderPhoneForm(req, res, pages, status, typed, error),
    });
    if (!sent) return;
    // It reaches the account only when the code comes back.
    state.enrolment = { method: 'sms', sealed: config.secrets.seal(phone.e164, userId), last4: phone.last4 };
    res.redirect(303, `${config.basePath}/enrol/sms/confirm`);
  });
}

/** GET /enrol/sms/confirm: the code field, the masked number, "Resend". */
export function showConfirm(pages: SmsPages) {
  return asyncHandler(async (req, res) => {
    const pending = await pages.context.pendingToEnrol(req, res);
    if (!pending) return;
    if (pending.state.enrolment?.method !== 'sms') {
      res.redirect(303, `${pages.context.config.basePath}/enrol/sms`);
      return;
    }
    await renderConfirm(req, res, pages, pending);
  });
}

/** POST /enrol/sms/confirm: the code that went to the number saves the enrolment. */
export function confirmEnrolment(pages: SmsPages) {
  const { config, accounts, requirePending, finishEnrolment } = pages.context;
  return asyncHandler(async (req, res) => {
    const pending = await requirePending(req);
    const { state, userId } = pending;
    const enrolment = pendingPhone(pending);
    if (!enrolment) {
      res.redirect(303, `${config.basePath}/enrol/sms`);
      return;
    }
    const { method, generation } = await accounts.standing(userId);
    if (method) throw new TwoFactorError('forbidden', 'already enrolled');
    const right = await checkSmsCode(pages, {
      req, res, who: pending, phone: config.secrets.open(enrolment.sealed, userId), reason: 'enrolment',
      rerender: (status, error) => renderConfirm(req, res, pages, pending, status, error),
    });
    if (!right) return;
    await accounts.saveEnrolment(userId, generation, { method: 'sms', phone: enrolment.sealed, phoneLast4: enrolment.last4 });
    delete state.enrolment;
    config.emit({ type: 'enrolled', userId, method: 'sms' });
    await finishEnrolment(req, res);
  });
}

/** POST /resend: another code for the verify page, or for the enrolment being confirmed. */
export function resend(pages: SmsPages) {
  const { config, accounts, requirePending } = pages.context;
  const base = config.basePath;
  return asyncHandler(async (req, res) => {
    const pending = await requirePending(req);
    const { state, userId } = pending;
    const { record, method } = await accounts.standing(userId);
    const onVerify = method === 'sms' && record?.phone !== undefined;
    const sealed = onVerify ? record!.phone! : !method && state.enrolment?.method === 'sms' ? state.enrolment.sealed : undefined;
    if (sealed === undefined) {
      res.redirect(303, base);
      return;
    }
    const sent = await sendCodeUnlessLocked(pages, {
      req, res, userId,
      send: () => pages.challenge.send(state, config.secrets.open(sealed, userId), 'resend', config.i18n.localeOf(req), onVerify ? record?.phoneLast4 : undefined),
      refused: (status, error) => (onVerify ? renderVerify(req, res, pages, pending, status, error) : renderConfirm(req, res, pages, pending, status, error)),
    });
    if (sent) res.redirect(303, onVerify ? `${base}/verify` : `${base}/enrol/sms/confirm`);
  });
}
