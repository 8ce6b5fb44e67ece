import type { Request, Response, Router } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import type { Accounts, TotpCheck } from '../flow/account.js';
import type { AttemptLimiter } from '../flow/attempts.js';
import type { Policy } from '../flow/policy.js';
import type { SecondFactorSession } from '../flow/session.js';
import type { SmsChallenge } from '../flow/sms-challenge.js';
import { maskPhone, normaliseUsPhone } from '../factors/phone.js';
import { RECOVERY_CODE_COUNT, RECOVERY_CODES_LOW, type RecoveryCodes } from '../factors/recovery.js';
import type { SmsCheck, SmsCodes } from '../factors/sms.js';
import { groupForTyping, newTotpSecret, totpQrSvg, totpUri } from '../factors/totp.js';
import type { FactorMethod, UserRecord } from '../store/types.js';
import type { CodeChecks } from './code-check.js';
import { asyncHandler } from './http.js';
import { readCode, readField } from './input.js';
import type { MessageKey } from './messages.js';
import { errorFor, lastSendError, phoneProblemKeys, sendRefusalError, smsCheckError, totpCheckError, type PageError } from './page-errors.js';
import { renderCodesShownOnce, renderRecoveryCodes } from './recovery-routes.js';
import type { Render } from './render.js';
import { randomId } from '../secrets.js';
import type { RememberedDevices } from '../flow/remember-device.js';
import type { SessionIndex } from '../flow/session-index.js';
import { registerSessionsRoutes } from './sessions-routes.js';

declare module 'express-session' {
  interface SessionData {
    /** Shown once on the settings page after a change (post, redirect, get). */
    secondFactorSettingsNotice?: MessageKey;
    /** When a code to confirm it's you went to the enrolled phone from the settings page. */
    secondFactorSettingsCodeSentAt?: number;
    /** The one "Make new recovery codes" form that may still issue a set (see issueToken). */
    secondFactorRecoveryIssue?: string;
  }
}

interface SignedIn {
  readonly state: SecondFactorSession;
  readonly userId: string;
  readonly user: Express.User;
}

/**
 * The person's settings page, for a finished sign-in: the method and masked phone, recovery
 * codes left, and (after a fresh second factor) new recovery codes, another method or phone,
 * and turning 2FA off where the policy makes it optional. A change of method keeps the old
 * factor working until the new one is confirmed with a code.
 */
export function registerSettingsRoutes(
  router: Router,
  deps: {
    config: Config;
    accounts: Accounts;
    attempts: AttemptLimiter;
    render: Render;
    policy: Policy;
    roleOf: (user: Express.User) => string | undefined;
    codes: SmsCodes;
    challenge: SmsChallenge;
    recovery: RecoveryCodes;
    codeChecks: CodeChecks;
    devices: RememberedDevices;
    sessions: SessionIndex;
  },
): void {
  const { config, accounts, attempts, render, policy, roleOf, codes, challenge, recovery } = deps;
  const { checkSubmittedCode, checkSmsCode, checkTotpCode, sendCodeUnlessLocked } = deps.codeChecks;
  const base = config.basePath;
  const settingsPath = `${base}/settings`;
  const codeMinutes = Math.ceil(config.smsCodeTtlSeconds / 60);
  const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;
  const places = registerSessionsRoutes(router, { config, accounts, devices: deps.devices, sessions: deps.sessions });

  /**
   * The person whose second factor is done in this session. The router is mounted before the
   * guard, so this check is the page's own: a password-only sign-in is sent to finish first.
   */
  function signedIn(req: Request, res: Response): SignedIn | undefined {
    const state = req.session?.secondFactor;
    if (!req.user || !state || state.userId !== config.userId(req.user)) throw new TwoFactorError('not_pending', 'not signed in');
    if (state.state !== 'done') {
      res.redirect(303, base);
      return undefined;
    }
    return { state, userId: state.userId, user: req.user };
  }

  const isFresh = (state: SecondFactorSession) => state.verifiedAt !== undefined && config.now() - state.verifiedAt < config.freshSecondFactorMs;

  /** Changes need a fresh second factor; otherwise back to the page, which asks for a code. */
  function fresh(req: Request, res: Response, who: SignedIn): boolean {
    if (isFresh(who.state)) return true;
    req.session.secondFactorSettingsNotice = 'settings.confirmFirst';
    res.redirect(303, settingsPath);
    return false;
  }

  async function renderSettings(req: Request, res: Response, who: SignedIn, status = 200, error?: PageError): Promise<void> {
    const [{ record, method }, policyState] = await Promise.all([accounts.standing(who.userId), policy.current()]);
    const mode = policy.modeFor(policyState, roleOf(who.user));
    const notice = req.session.secondFactorSettingsNotice;
    delete req.session.secondFactorSettingsNotice;
    const freshNow = method !== undefined && isFresh(who.state);
    const left = recovery.left(record);
    // A form of its own for "Make new recovery codes": a reload of the codes page re-sends
    // that form, and must not void the codes just saved by issuing another set.
    const recoveryIssue = freshNow ? (req.session.secondFactorRecoveryIssue = randomId()) : undefined;
    let confirm: Record<string, unknown> | undefined;
    if (method && !freshNow) {
      const lockedSeconds = await attempts.lockedSeconds(who.userId);
      confirm = {
        lockedMinutes: lockedSeconds > 0 ? Math.ceil(lockedSeconds / 60) : 0,
        sent: req.session.secondFactorSettingsCodeSentAt !== undefined,
        resendIn: method === 'sms' ? await codes.cooldownSeconds(who.userId, who.state.sms?.binding) : 0,
      };
    }
    render(req, res, status, 'settings', {
      title: 'page.title.settings',
      method,
      masked: method === 'sms' ? maskPhone(record?.phoneLast4 ?? '') : undefined,
      recoveryLeft: left,
      recoveryTotal: RECOVERY_CODE_COUNT,
      recoveryLow: method !== undefined && left <= RECOVERY_CODES_LOW,
      fresh: freshNow,
      recoveryIssue,
      freshMinutes: Math.ceil(config.freshSecondFactorMs / 60_000),
      confirm,
      codeMinutes,
      canDisable: method !== undefined && mode === 'optional',
      canEnable: method === undefined && mode !== 'off',
      portalOff: mode === 'off',
      notice,
      places: await places.view(req, who.state),
      home: config.successRedirect,
      ...(error ? { error } : {}),
    });
  }

  /** The person's enrolled factor, or a redirect to the page (nothing to change without one). */
  async function enrolled(res: Response, who: SignedIn): Promise<{ record: UserRecord; method: FactorMethod; generation: number } | undefined> {
    const { record, method, generation } = await accounts.standing(who.userId);
    if (!record || !method) {
      res.redirect(303, settingsPath);
      return undefined;
    }
    return { record, method, generation };
  }

  router.get(
    '/settings',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (who) await renderSettings(req, res, who);
    }),
  );

  // --- confirm it's you: a current code makes the second factor fresh again -----------------

  router.post(
    '/settings/confirm/send',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (!who) return;
      const current = await enrolled(res, who);
      if (!current) return;
      if (current.method !== 'sms' || !current.record.phone) {
        res.redirect(303, settingsPath);
        return;
      }
      const phone = current.record.phone;
      const sent = await sendCodeUnlessLocked({
        req, res, userId: who.userId,
        send: () => challenge.send(who.state, config.secrets.open(phone, who.userId), 'settings', config.i18n.localeOf(req)),
        refused: (status, error) => renderSettings(req, res, who, status, sendRefusalError(error)),
      });
      if (!sent) return;
      req.session.secondFactorSettingsCodeSentAt = config.now();
      res.redirect(303, settingsPath);
    }),
  );

  router.post(
    '/settings/confirm',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (!who) return;
      const current = await enrolled(res, who);
      if (!current) return;
      const { record, method } = current;
      // Either method, so neither checkSmsCode nor checkTotpCode.
      let check = 'wrong' as SmsCheck;
      let totp = 'wrong' as TotpCheck;
      const right = await checkSubmittedCode({
        req, res, userId: who.userId, method, reason: 'settings',
        read: () => readCode(body(req).code),
        evaluate: async (code) => {
          if (method === 'totp') return (totp = await accounts.verifyTotp(who.userId, record, code)) === 'ok';
          if (!record.phone) return false;
          check = await codes.check(who.userId, { binding: who.state.sms?.binding, phone: config.secrets.open(record.phone, who.userId) }, code);
          return check === 'ok';
        },
        rerender: (status, error) =>
          renderSettings(req, res, who, status, error ? errorFor(error) : method === 'totp' ? totpCheckError(totp) : smsCheckError(check)),
      });
      if (!right) return;
      who.state.verifiedAt = config.now();
      delete req.session.secondFactorSettingsCodeSentAt;
      config.emit({ type: 'verified', userId: who.userId, method, reason: 'settings' });
      res.redirect(303, settingsPath);
    }),
  );

  // --- recovery codes ------------------------------------------------------------------------

  router.post(
    '/settings/recovery-codes',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (!who || !fresh(req, res, who)) return;
      const current = await enrolled(res, who);
      if (!current) return;
      const form = readField(body(req).issue, 64);
      if (!form || form !== req.session.secondFactorRecoveryIssue) {
        renderCodesShownOnce(config, render, req, res);
        return;
      }
      delete req.session.secondFactorRecoveryIssue;
      const shown = await recovery.issue(who.userId, current.record);
      config.emit({ type: 'recovery_codes_regenerated', userId: who.userId, method: current.method });
      renderRecoveryCodes(config, render, req, res, shown, { doneHref: settingsPath });
    }),
  );

  // --- another method or phone: enrol the new one; the old one works until it is confirmed ---

  /**
   * The old factor is gone: so go the person's remembered devices (from the store) and their
   * other sessions, which signed in with it. This session stays. Runs after the change is
   * saved; a failure here is logged, not shown, since the change itself is done.
   */
  async function endOldFactor(req: Request, userId: string): Promise<void> {
    try {
      await deps.devices.forgetAll(userId);
      if (config.sessionIndex) await deps.sessions.endOthers(req, userId);
    } catch (error) {
      config.logger.error(`second factor: factor of ${userId} changed, but their other sessions or remembered devices could not be ended: ${(error as Error).message}`);
    }
  }

  /** The new factor is in: new recovery codes (the old ones belonged to the old factor). */
  async function changed(req: Request, res: Response, who: SignedIn, saved: UserRecord, from: FactorMethod): Promise<void> {
    delete who.state.enrolment;
    who.state.verifiedAt = config.now();
    const shown = await recovery.issue(who.userId, saved);
    await endOldFactor(req, who.userId);
    config.emit({ type: 'method_changed', userId: who.userId, method: saved.method!, reason: `from_${from}` });
    renderRecoveryCodes(config, render, req, res, shown, { doneHref: settingsPath });
  }

  router.post(
    '/settings/method',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (!who || !fresh(req, res, who)) return;
      if (!(await enrolled(res, who))) return;
      const choice = readField(body(req).method, 16);
      if (choice === 'totp') {
        // Like a first enrolment: the new secret stays sealed in this session until a code
        // from it comes back; the account keeps its current factor until then.
        who.state.enrolment = { method: 'totp', sealed: config.secrets.seal(newTotpSecret(), who.userId) };
        res.redirect(303, `${settingsPath}/method/totp`);
        return;
      }
      if (choice === 'sms') {
        delete who.state.enrolment;
        res.redirect(303, `${settingsPath}/method/sms`);
        return;
      }
      await renderSettings(req, res, who, 400, { key: 'error.bad_request' });
    }),
  );

  async function renderNewTotp(req: Request, res: Response, who: SignedIn, status = 200, error?: PageError): Promise<void> {
    const enrolment = who.state.enrolment;
    if (enrolment?.method !== 'totp') {
      res.redirect(303, settingsPath);
      return;
    }
    const secret = config.secrets.open(enrolment.sealed, who.userId);
    const accountName = config.accountName(who.user);
    render(req, res, status, 'enrol-totp', {
      title: 'page.title.changeTotp',
      qrSvg: await totpQrSvg(totpUri(config.issuer, accountName, secret)),
      groupedKey: groupForTyping(secret),
      accountName,
      formAction: `${settingsPath}/method/totp`,
      restartHref: settingsPath,
      restartLabel: 'settings.keepCurrent',
      ...(error ? { error } : {}),
    });
  }

  router.get(
    '/settings/method/totp',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (!who || !fresh(req, res, who)) return;
      await renderNewTotp(req, res, who);
    }),
  );

  router.post(
    '/settings/method/totp',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (!who || !fresh(req, res, who)) return;
      const enrolment = who.state.enrolment;
      if (enrolment?.method !== 'totp') {
        res.redirect(303, settingsPath);
        return;
      }
      const current = await enrolled(res, who);
      if (!current) return;
      const secret = config.secrets.open(enrolment.sealed, who.userId);
      const right = await checkTotpCode({
        req, res, userId: who.userId, reason: 'method_change',
        read: () => readCode(body(req).code),
        accept: (code) => accounts.acceptTotp(who.userId, secret, code),
        rerender: (status, error) => renderNewTotp(req, res, who, status, error),
      });
      if (!right) return;
      const saved = await accounts.saveTotpEnrolment(who.userId, enrolment.sealed, current.generation);
      await changed(req, res, who, saved, current.method);
    }),
  );

  const renderPhoneForm = (req: Request, res: Response, status = 200, phoneValue = '', error?: PageError) =>
    render(req, res, status, 'enrol-sms', {
      title: 'page.title.changeSms',
      phoneValue,
      formAction: `${settingsPath}/method/sms`,
      restartHref: settingsPath,
      restartLabel: 'settings.keepCurrent',
      ...(error ? { error } : {}),
    });

  async function renderPhoneConfirm(req: Request, res: Response, who: SignedIn, status = 200, error?: PageError): Promise<void> {
    const sms = who.state.sms;
    const shown = error ?? lastSendError(sms, config.now());
    render(req, res, status, 'enrol-sms-confirm', {
      title: 'page.title.changeSms',
      masked: maskPhone(who.state.enrolment?.last4 ?? ''),
      sent: sms?.sentAt !== undefined,
      resendIn: await codes.cooldownSeconds(who.userId, sms?.binding),
      codeMinutes,
      formAction: `${settingsPath}/method/sms/confirm`,
      resendAction: `${settingsPath}/method/sms/resend`,
      changeNumberHref: `${settingsPath}/method/sms`,
      ...(shown ? { error: shown } : {}),
    });
  }

  router.get(
    '/settings/method/sms',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (!who || !fresh(req, res, who)) return;
      if (await enrolled(res, who)) renderPhoneForm(req, res);
    }),
  );

  router.post(
    '/settings/method/sms',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (!who || !fresh(req, res, who)) return;
      if (!(await enrolled(res, who))) return;
      const typed = readField(body(req).phone, 64);
      const phone = normaliseUsPhone(typed);
      if (!phone.ok) {
        renderPhoneForm(req, res, 400, typed ?? '', { key: phoneProblemKeys[phone.problem] });
        return;
      }
      const sent = await sendCodeUnlessLocked({
        req, res, userId: who.userId,
        send: () => challenge.send(who.state, phone.e164, 'settings', config.i18n.localeOf(req)),
        refused: (status, error) => renderPhoneForm(req, res, status, typed ?? '', sendRefusalError(error)),
      });
      if (!sent) return;
      who.state.enrolment = { method: 'sms', sealed: config.secrets.seal(phone.e164, who.userId), last4: phone.last4 };
      res.redirect(303, `${settingsPath}/method/sms/confirm`);
    }),
  );

  router.get(
    '/settings/method/sms/confirm',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (!who || !fresh(req, res, who)) return;
      if (who.state.enrolment?.method !== 'sms') {
        res.redirect(303, `${settingsPath}/method/sms`);
        return;
      }
      await renderPhoneConfirm(req, res, who);
    }),
  );

  router.post(
    '/settings/method/sms/confirm',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (!who || !fresh(req, res, who)) return;
      const enrolment = who.state.enrolment;
      if (enrolment?.method !== 'sms' || !enrolment.last4) {
        res.redirect(303, `${settingsPath}/method/sms`);
        return;
      }
      const current = await enrolled(res, who);
      if (!current) return;
      const right = await checkSmsCode({
        req, res, state: who.state, userId: who.userId, phone: config.secrets.open(enrolment.sealed, who.userId), reason: 'method_change',
        read: () => readCode(body(req).code),
        rerender: (status, error) => renderPhoneConfirm(req, res, who, status, error),
      });
      if (!right) return;
      const saved = await accounts.saveSmsEnrolment(who.userId, enrolment.sealed, enrolment.last4, current.generation);
      await changed(req, res, who, saved, current.method);
    }),
  );

  router.post(
    '/settings/method/sms/resend',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (!who || !fresh(req, res, who)) return;
      const enrolment = who.state.enrolment;
      if (enrolment?.method !== 'sms') {
        res.redirect(303, `${settingsPath}/method/sms`);
        return;
      }
      const sent = await sendCodeUnlessLocked({
        req, res, userId: who.userId,
        send: () => challenge.send(who.state, config.secrets.open(enrolment.sealed, who.userId), 'settings', config.i18n.localeOf(req)),
        refused: (status, error) => renderPhoneConfirm(req, res, who, status, sendRefusalError(error)),
      });
      if (!sent) return;
      res.redirect(303, `${settingsPath}/method/sms/confirm`);
    }),
  );

  // --- turning 2FA off, where the person's mode is optional ---------------------------------

  router.post(
    '/settings/disable',
    asyncHandler(async (req, res) => {
      const who = signedIn(req, res);
      if (!who || !fresh(req, res, who)) return;
      const current = await enrolled(res, who);
      if (!current) return;
      if (policy.modeFor(await policy.current(), roleOf(who.user)) !== 'optional') {
        throw new TwoFactorError('forbidden', 'two-step verification is required for this person');
      }
      // The record is replaced by a skip: method, secret, phone and recovery codes go, and with
      // them the factorId that remembered devices are bound to. Later sign-ins go straight in.
      await accounts.recordSkip(who.userId, current.generation);
      await config.store.delete(accounts.stepKey(who.userId));
      await endOldFactor(req, who.userId);
      delete who.state.enrolment;
      config.emit({ type: 'disabled', userId: who.userId, method: current.method });
      req.session.secondFactorSettingsNotice = 'settings.disabled';
      res.redirect(303, settingsPath);
    }),
  );
}
