import type { Request, Response } from 'express';
import type { UserRecord } from '../../store/types.js';
import { asyncHandler } from '../../http.js';
import type { PageError } from '../../web/page-errors.js';
import type { Person } from '../contract.js';
import { maskPhone } from './phone.js';
import { checkSmsCode, codePage, pendingPhone, phoneError, sendCodeUnlessLocked, typedPhone, type SmsPages } from './pages.js';

declare module 'express-session' {
  interface SessionData {
    /** When a code to confirm it's you went to the enrolled phone from the settings page. */
    secondFactorSettingsCodeSentAt?: number;
  }
}

// The settings page's text-message parts: "confirm it's you" by a code to the enrolled phone,
// and a change to (another) phone, which keeps the current factor until its code comes back.

/** The confirm section: whether a code went out, and this session's resend countdown. */
export async function confirmView(req: Request, who: Person, record: UserRecord, pages: SmsPages): Promise<Record<string, unknown>> {
  return {
    masked: maskPhone(record.phoneLast4 ?? ''),
    sent: req.session.secondFactorSettingsCodeSentAt !== undefined,
    resendIn: await pages.codes.cooldownSeconds(who.userId, who.state.sms?.binding),
  };
}

/** POST /settings/confirm/send: a code to the enrolled phone. */
export function sendConfirmCode(pages: SmsPages) {
  const { config, settings } = pages.context;
  return asyncHandler(async (req, res) => {
    const who = settings.signedIn(req, res);
    const current = who && (await settings.enrolled(res, who));
    if (!who || !current) return;
    const phone = current.record.phone;
    if (current.method !== 'sms' || !phone) {
      res.redirect(303, settings.path);
      return;
    }
    const sent = await sendCodeUnlessLocked(pages, {
      req, res, userId: who.userId,
      send: () => pages.challenge.send(who.state, config.secrets.open(phone, who.userId), 'settings', config.i18n.localeOf(req)),
      refused: (status, error) => settings.show(req, res, who, status, error),
    });
    if (!sent) return;
    req.session.secondFactorSettingsCodeSentAt = config.now();
    res.redirect(303, settings.path);
  });
}

/** POST /settings/confirm with text messages: the code that went to the enrolled phone. */
export async function confirm(req: Request, res: Response, who: Person, record: UserRecord, pages: SmsPages): Promise<void> {
  const { config, settings } = pages.context;
  if (!record.phone) {
    res.redirect(303, settings.path);
    return;
  }
  const right = await checkSmsCode(pages, {
    req, res, who, phone: config.secrets.open(record.phone, who.userId), reason: 'settings',
    rerender: (status, error) => settings.show(req, res, who, status, error),
  });
  if (!right) return;
  delete req.session.secondFactorSettingsCodeSentAt;
  settings.confirmed(req, res, who, 'sms');
}

function renderPhoneForm(req: Request, res: Response, pages: SmsPages, status = 200, phoneValue = '', error?: PageError): void {
  const { path } = pages.context.settings;
  pages.context.render(req, res, status, 'enrol-sms', {
    title: 'page.title.changeSms', phoneValue,
    formAction: `${path}/method/sms`, restartHref: path, restartLabel: 'settings.keepCurrent',
    ...(error ? { error } : {}),
  });
}

async function renderPhoneConfirm(req: Request, res: Response, pages: SmsPages, who: Person, status = 200, error?: PageError): Promise<void> {
  const { path } = pages.context.settings;
  pages.context.render(req, res, status, 'enrol-sms-confirm', {
    title: 'page.title.changeSms',
    ...codePage(pages, who, who.state.enrolment?.last4, error),
    formAction: `${path}/method/sms/confirm`, resendAction: `${path}/method/sms/resend`, changeNumberHref: `${path}/method/sms`,
  });
}

/** The signed-in person with a fresh factor and an enrolment, else the page has been answered. */
async function changing(req: Request, res: Response, pages: SmsPages) {
  const { settings } = pages.context;
  const who = settings.signedIn(req, res);
  if (!who || !settings.fresh(req, res, who)) return undefined;
  const current = await settings.enrolled(res, who);
  return current ? { who, current } : undefined;
}

/** GET /settings/method/sms: the phone form. */
export function showChangePhone(pages: SmsPages) {
  return asyncHandler(async (req, res) => {
    if (await changing(req, res, pages)) renderPhoneForm(req, res, pages);
  });
}

/** POST /settings/method/sms: a code to the new number. */
export function submitChangePhone(pages: SmsPages) {
  const { config, settings } = pages.context;
  return asyncHandler(async (req, res) => {
    const change = await changing(req, res, pages);
    if (!change) return;
    const { who } = change;
    const { typed, phone } = typedPhone(req);
    if (!phone.ok) {
      renderPhoneForm(req, res, pages, 400, typed, phoneError(phone));
      return;
    }
    const sent = await sendCodeUnlessLocked(pages, {
      req, res, userId: who.userId,
      send: () => pages.challenge.send(who.state, phone.e164, 'settings', config.i18n.localeOf(req)),
      refused: (status, error) => renderPhoneForm(req, res, pages, status, typed, error),
    });
    if (!sent) return;
    who.state.enrolment = { method: 'sms', sealed: config.secrets.seal(phone.e164, who.userId), last4: phone.last4 };
    res.redirect(303, `${settings.path}/method/sms/confirm`);
  });
}

/** GET /settings/method/sms/confirm: the code field for the new number. */
export function showChangeConfirm(pages: SmsPages) {
  const { settings } = pages.context;
  return asyncHandler(async (req, res) => {
    const who = settings.signedIn(req, res);
    if (!who || !settings.fresh(req, res, who)) return;
    if (who.state.enrolment?.method !== 'sms') {
      res.redirect(303, `${settings.path}/method/sms`);
      return;
    }
    await renderPhoneConfirm(req, res, pages, who);
  });
}

/** POST /settings/method/sms/confirm: the new number's code replaces the factor. */
export function confirmChangePhone(pages: SmsPages) {
  const { config, settings, accounts } = pages.context;
  return asyncHandler(async (req, res) => {
    const who = settings.signedIn(req, res);
    if (!who || !settings.fresh(req, res, who)) return;
    const enrolment = pendingPhone(who);
    if (!enrolment) {
      res.redirect(303, `${settings.path}/method/sms`);
      return;
    }
    const current = await settings.enrolled(res, who);
    if (!current) return;
    const right = await checkSmsCode(pages, {
      req, res, who, phone: config.secrets.open(enrolment.sealed, who.userId), reason: 'method_change',
      rerender: (status, error) => renderPhoneConfirm(req, res, pages, who, status, error),
    });
    if (!right) return;
    const saved = await accounts.saveEnrolment(who.userId, current.generation, { method: 'sms', phone: enrolment.sealed, phoneLast4: enrolment.last4 });
    await settings.changed(req, res, who, saved, current.method);
  });
}

/** POST /settings/method/sms/resend: another code to the new number. */
export function resendChangeCode(pages: SmsPages) {
  const { config, settings } = pages.context;
  return asyncHandler(async (req, res) => {
    const who = settings.signedIn(req, res);
    if (!who || !settings.fresh(req, res, who)) return;
    const enrolment = who.state.enrolment;
    if (enrolment?.method !== 'sms') {
      res.redirect(303, `${settings.path}/method/sms`);
      return;
    }
    const sent = await sendCodeUnlessLocked(pages, {
      req, res, userId: who.userId,
      send: () => pages.challenge.send(who.state, config.secrets.open(enrolment.sealed, who.userId), 'settings', config.i18n.localeOf(req)),
      refused: (status, error) => renderPhoneConfirm(req, res, pages, who, status, error),
    });
    if (sent) res.redirect(303, `${settings.path}/method/sms/confirm`);
  });
}
