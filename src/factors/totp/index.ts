import type { Config } from '../../options.js';
import type { Factor } from '../contract.js';
import { createTotpClaims } from './claims.js';
import { confirmEnrolment, showEnrolment, showVerify, startTotpEnrolment, verify } from './pages.js';
import { confirm, confirmChange, confirmView, showChange } from './settings.js';

/** The authenticator app (TOTP): a secret shown as a QR code and a key, codes every 30 s. */
export function totpFactor(config: Config): Factor {
  const claims = createTotpClaims(config);
  return {
    id: 'totp',
    labels: { choose: 'choose.totp', hint: 'choose.totp.hint', changeTo: 'settings.change.totp' },
    confirmPartial: 'partials/confirm-code',
    describe: () => ({ key: 'settings.method.totp' }),
    adminStatus: () => ({ key: 'admin.status.totp' }),
    clear: (userId) => claims.clear(userId),
    mount(router, context) {
      const pages = { context, claims };
      const base = config.basePath;
      router.get('/enrol/totp', showEnrolment(pages));
      router.post('/enrol/totp', confirmEnrolment(pages));
      router.get('/settings/method/totp', showChange(pages));
      router.post('/settings/method/totp', confirmChange(pages));
      return {
        async startEnrolment(_req, res, pending) {
          startTotpEnrolment(pending, pages);
          res.redirect(303, `${base}/enrol/totp`);
        },
        async startChange(_req, res, who) {
          startTotpEnrolment(who, pages);
          res.redirect(303, `${context.settings.path}/method/totp`);
        },
        showVerify: (req, res) => showVerify(req, res, pages),
        verify: (req, res, pending, read) => verify(req, res, pending, read, pages),
        confirmView,
        confirm: (req, res, who, record) => confirm(req, res, who, record, pages),
      };
    },
  };
}
