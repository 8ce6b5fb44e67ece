import type { Request, Response } from 'express';
import { TwoFactorError } from '../../errors.js';
import type { UserRecord } from '../../store/types.js';
import { asyncHandler } from '../../http.js';
import { readField } from '../../web/input.js';
import type { PageError } from '../../web/page-errors.js';
import type { Person } from '../contract.js';
import { checkAssertion, newAuthentication, newRegistration, registered, type PasskeyPages } from './pages.js';

// The settings page's passkey parts: "confirm it's you" with a key, the list of keys (add
// another, remove one, never the last), and a change to passkeys from another method.

/** The confirm section: an authentication prompt over the person's keys. */
export async function confirmView(_req: Request, who: Person, record: UserRecord, pages: PasskeyPages): Promise<Record<string, unknown>> {
  return { passkeyOptions: await newAuthentication(pages, who, record) };
}

/** POST /settings/confirm with a key. */
export async function confirm(req: Request, res: Response, who: Person, record: UserRecord, pages: PasskeyPages): Promise<void> {
  const { settings } = pages.context;
  const right = await checkAssertion(pages, { req, res, who, record, reason: 'settings', rerender: (status, error) => settings.show(req, res, who, status, error) });
  if (right) settings.confirmed(req, res, who, 'passkey');
}

/** The list of keys for the settings page (partials/passkey-list), removable once fresh. */
export function listView(req: Request, record: UserRecord, fresh: boolean, pages: PasskeyPages): Record<string, unknown> {
  const { config, settings } = pages.context;
  const format = new Intl.DateTimeFormat(config.i18n.localeOf(req), { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  const when = (ms: number) => ({ iso: new Date(ms).toISOString(), text: `${format.format(ms)} UTC` });
  return {
    passkeys: (record.passkeys ?? []).map((key) => ({ id: key.id, name: key.name, synced: key.backedUp, added: when(key.createdAt), ...(key.lastUsedAt ? { lastUsed: when(key.lastUsedAt) } : {}) })),
    canRemove: fresh,
    removeAction: `${settings.path}/passkeys/remove`,
    ...(fresh ? { addHref: `${settings.path}/passkeys/add` } : {}),
  };
}

/** The signed-in person with a fresh factor and an enrolment, else the page has been answered. */
async function changing(req: Request, res: Response, pages: PasskeyPages) {
  const { settings } = pages.context;
  const who = settings.signedIn(req, res);
  if (!who || !settings.fresh(req, res, who)) return undefined;
  const current = await settings.enrolled(res, who);
  return current ? { who, current } : undefined;
}

/** The registration page of settings: a change to passkeys, or another key. */
async function renderRegistration(req: Request, res: Response, pages: PasskeyPages, who: Person, adding: UserRecord | undefined, status = 200, error?: PageError): Promise<void> {
  const { settings, render } = pages.context;
  const typed = (req.body as Record<string, unknown> | undefined)?.name;
  render(req, res, status, 'passkey/enrol', {
    title: 'passkey.title.enrol',
    passkeyOptions: await newRegistration(pages, who, adding?.passkeys ?? []),
    nameValue: typeof typed === 'string' ? typed.slice(0, 64) : '',
    formAction: adding ? `${settings.path}/passkeys/add` : `${settings.path}/method/passkey`,
    restartHref: settings.path,
    restartLabel: 'settings.keepCurrent',
    ...(error ? { error } : {}),
  });
}

/** GET /settings/method/passkey: a key to replace the current method. */
export function showChange(pages: PasskeyPages) {
  return asyncHandler(async (req, res) => {
    const change = await changing(req, res, pages);
    if (change) await renderRegistration(req, res, pages, change.who, undefined);
  });
}

/** POST /settings/method/passkey: the registered key replaces the factor. */
export function confirmChange(pages: PasskeyPages) {
  const { accounts, settings } = pages.context;
  return asyncHandler(async (req, res) => {
    const change = await changing(req, res, pages);
    if (!change) return;
    const { who, current } = change;
    const outcome = await registered(req, pages, who, []);
    if ('error' in outcome) {
      await renderRegistration(req, res, pages, who, undefined, 400, outcome.error);
      return;
    }
    const saved = await accounts.saveEnrolment(who.userId, current.generation, { method: 'passkey', passkeys: [outcome.credential] });
    await settings.changed(req, res, who, saved, current.method);
  });
}

/** The person's passkey enrolment, or a redirect to settings (nothing to add to or remove from). */
async function passkeyEnrolment(req: Request, res: Response, pages: PasskeyPages) {
  const change = await changing(req, res, pages);
  if (change && change.current.method === 'passkey') return change;
  if (change) res.redirect(303, pages.context.settings.path);
  return undefined;
}

/** GET /settings/passkeys/add: another key beside the ones set up. */
export function showAdd(pages: PasskeyPages) {
  return asyncHandler(async (req, res) => {
    const enrolled = await passkeyEnrolment(req, res, pages);
    if (enrolled) await renderRegistration(req, res, pages, enrolled.who, enrolled.current.record);
  });
}

/**
 * POST /settings/passkeys/add: the new key joins the list. The enrolment stays the same
 * (recovery codes and remembered devices keep working): adding a key adds a way in for the
 * same person, it replaces nothing.
 */
export function confirmAdd(pages: PasskeyPages) {
  const { config, settings } = pages.context;
  return asyncHandler(async (req, res) => {
    const enrolled = await passkeyEnrolment(req, res, pages);
    if (!enrolled) return;
    const { who, current } = enrolled;
    const existing = current.record.passkeys ?? [];
    const outcome = await registered(req, pages, who, existing);
    if ('error' in outcome) {
      await renderRegistration(req, res, pages, who, current.record, 400, outcome.error);
      return;
    }
    await config.store.saveUser(who.userId, { ...current.record, passkeys: [...existing, outcome.credential] });
    config.emit({ type: 'passkey_added', userId: who.userId, method: 'passkey' });
    req.session.secondFactorSettingsNotice = { key: 'passkey.added', params: { name: outcome.credential.name } };
    res.redirect(303, settings.path);
  });
}

/** POST /settings/passkeys/remove: one key goes; never the last (turning 2FA off is its own action). */
export function remove(pages: PasskeyPages) {
  const { config, settings } = pages.context;
  return asyncHandler(async (req, res) => {
    const enrolled = await passkeyEnrolment(req, res, pages);
    if (!enrolled) return;
    const { who, current } = enrolled;
    const keys = current.record.passkeys ?? [];
    const id = readField((req.body as Record<string, unknown>)?.id, 512);
    const gone = keys.find((key) => key.id === id);
    if (!gone) throw new TwoFactorError('not_found', 'no such key for this person');
    if (keys.length === 1) throw new TwoFactorError('forbidden', 'the last key cannot be removed: it is the second factor');
    await config.store.saveUser(who.userId, { ...current.record, passkeys: keys.filter((key) => key !== gone) });
    config.emit({ type: 'passkey_removed', userId: who.userId, method: 'passkey' });
    req.session.secondFactorSettingsNotice = { key: 'passkey.removed', params: { name: gone.name } };
    res.redirect(303, settings.path);
  });
}
