import type { Request, Response } from 'express';
import type { UserRecord } from '../../store/types.js';
import { asyncHandler } from '../../http.js';
import type { PageError } from '../../web/page-errors.js';
import type { Person } from '../contract.js';
import { checkTotpCode, enrolmentView, pendingSecret, type TotpPages } from './pages.js';

/** The settings page's "confirm it's you" with an authenticator app: just the code field. */
export async function confirmView(): Promise<Record<string, unknown>> {
  return {};
}

/** POST /settings/confirm: a current code makes the second factor fresh again. */
export async function confirm(req: Request, res: Response, who: Person, record: UserRecord, pages: TotpPages): Promise<void> {
  const { settings } = pages.context;
  const right = await checkTotpCode(pages, {
    req, res, userId: who.userId, reason: 'settings',
    accept: (code, count) => pages.claims.verify(who.userId, record, code, count),
    rerender: (status, error) => settings.show(req, res, who, status, error),
  });
  if (right) settings.confirmed(req, res, who, 'totp');
}

async function renderNewSecret(req: Request, res: Response, who: Person, pages: TotpPages, status = 200, error?: PageError): Promise<void> {
  const { render, settings } = pages.context;
  const enrolment = pendingSecret(who, pages);
  if (!enrolment) {
    res.redirect(303, settings.path);
    return;
  }
  render(req, res, status, 'enrol-totp', {
    title: 'page.title.changeTotp',
    ...(await enrolmentView(who, pages, enrolment.secret)),
    formAction: `${settings.path}/method/totp`,
    restartHref: settings.path,
    restartLabel: 'settings.keepCurrent',
    ...(error ? { error } : {}),
  });
}

/** GET /settings/method/totp: the new secret's QR code; the current factor still works. */
export function showChange(pages: TotpPages) {
  const { settings } = pages.context;
  return asyncHandler(async (req, res) => {
    const who = settings.signedIn(req, res);
    if (who && settings.fresh(req, res, who)) await renderNewSecret(req, res, who, pages);
  });
}

/** POST /settings/method/totp: a code from the new secret replaces the factor. */
export function confirmChange(pages: TotpPages) {
  const { settings, accounts } = pages.context;
  return asyncHandler(async (req, res) => {
    const who = settings.signedIn(req, res);
    if (!who || !settings.fresh(req, res, who)) return;
    const enrolment = pendingSecret(who, pages);
    if (!enrolment) {
      res.redirect(303, settings.path);
      return;
    }
    const current = await settings.enrolled(res, who);
    if (!current) return;
    const right = await checkTotpCode(pages, {
      req, res, userId: who.userId, reason: 'method_change',
      accept: (code, count) => pages.claims.accept(who.userId, enrolment.secret, code, count),
      rerender: (status, error) => renderNewSecret(req, res, who, pages, status, error),
    });
    if (!right) return;
    const saved = await accounts.saveEnrolment(who.userId, current.generation, { method: 'totp', secret: enrolment.sealed });
    await settings.changed(req, res, who, saved, current.method);
  });
}
