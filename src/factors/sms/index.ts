import type { Config } from '../../options.js';
import type { Factor } from '../contract.js';
import { createSmsChallenge } from './challenge.js';
import { createSmsCodes } from './codes.js';
import { confirmEnrolment, resend, showConfirm, showPhoneForm, submitPhone } from './enrol.js';
import { renderVerify, verify } from './pages.js';
import { maskPhone } from './phone.js';
import { confirm, confirmChangePhone, confirmView, resendChangeCode, sendConfirmCode, showChangeConfirm, showChangePhone, submitChangePhone } from './settings.js';

/**
 * Text messages to a US mobile phone, through the configured sender (MessageBird in
 * production): a code at every sign-in, "Resend" after a countdown, hourly caps.
 */
export function smsFactor(config: Config): Factor {
  // One instance for the gate and the pages: its hourly caps are limiters that must be shared.
  const codes = createSmsCodes(config);
  const challenge = createSmsChallenge(config, codes);
  return {
    id: 'sms',
    labels: { choose: 'choose.sms', hint: 'choose.sms.hint', changeTo: 'settings.change.sms' },
    confirmPartial: 'partials/confirm-sms',
    describe: (record) => ({ key: 'settings.method.sms', params: { number: maskPhone(record.phoneLast4 ?? '') } }),
    adminStatus: () => ({ key: 'admin.status.sms' }),
    clear: (userId) => codes.clear(userId),
    atSignIn: (state, record, locale) => challenge.sendAtLogin(state, record, locale),
    mount(router, context) {
      const pages = { context, codes, challenge };
      const base = config.basePath;
      router.get('/enrol/sms', showPhoneForm(pages));
      router.post('/enrol/sms', submitPhone(pages));
      router.get('/enrol/sms/confirm', showConfirm(pages));
      router.post('/enrol/sms/confirm', confirmEnrolment(pages));
      router.post('/resend', resend(pages));
      router.post('/settings/confirm/send', sendConfirmCode(pages));
      router.get('/settings/method/sms', showChangePhone(pages));
      router.post('/settings/method/sms', submitChangePhone(pages));
      router.get('/settings/method/sms/confirm', showChangeConfirm(pages));
      router.post('/settings/method/sms/confirm', confirmChangePhone(pages));
      router.post('/settings/method/sms/resend', resendChangeCode(pages));
      return {
        async startEnrolment(_req, res) {
          res.redirect(303, `${base}/enrol/sms`);
        },
        async startChange(_req, res, who) {
          delete who.state.enrolment;
          res.redirect(303, `${context.settings.path}/method/sms`);
        },
        // The code was sent by the password step (a POST); showing or reloading the page sends nothing.
        showVerify: (req, res, pending) => renderVerify(req, res, pages, pending),
        verify: (req, res, pending, read) => verify(req, res, pending, read, pages),
        confirmView: (req, who, record) => confirmView(req, who, record, pages),
        confirm: (req, res, who, record) => confirm(req, res, who, record, pages),
      };
    },
  };
}
