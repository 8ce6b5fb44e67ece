import type { Config } from '../../options.js';
import type { Factor } from '../contract.js';
import { confirmEnrolment, enrolledRecord, renderVerify, showEnrolment, verify } from './pages.js';
import { confirm, confirmAdd, confirmChange, confirmView, listView, remove, showAdd, showChange } from './settings.js';

/**
 * Passkeys and security keys (WebAuthn): phishing-resistant, nothing to type. Offered when the
 * host names its relying party (`passkeys` option): the RP ID and origins are never taken
 * from a request.
 */
export function passkeyFactor(config: Config): Factor | undefined {
  const rp = config.passkeys;
  if (!rp) return undefined;
  return {
    id: 'passkey',
    labels: { choose: 'passkey.choose', hint: 'passkey.choose.hint', changeTo: 'passkey.changeTo' },
    confirmPartial: 'partials/confirm-passkey',
    settingsPartial: 'partials/passkey-list',
    describe: (record) => ({ key: 'passkey.describe', params: { count: record.passkeys?.length ?? 0 } }),
    adminStatus: (record) => ({ key: 'passkey.adminStatus', params: { count: record.passkeys?.length ?? 0 } }),
    // The keys live in the record, which a reset deletes; challenges expire with their sign-in.
    clear: async () => {},
    mount(router, context) {
      const pages = { context, rp };
      router.get('/enrol/passkey', showEnrolment(pages));
      router.post('/enrol/passkey', confirmEnrolment(pages));
      router.get('/settings/method/passkey', showChange(pages));
      router.post('/settings/method/passkey', confirmChange(pages));
      router.get('/settings/passkeys/add', showAdd(pages));
      router.post('/settings/passkeys/add', confirmAdd(pages));
      router.post('/settings/passkeys/remove', remove(pages));
      return {
        async startEnrolment(_req, res) {
          res.redirect(303, `${config.basePath}/enrol/passkey`);
        },
        async startChange(_req, res, who) {
          delete who.state.enrolment;
          res.redirect(303, `${context.settings.path}/method/passkey`);
        },
        // The challenge it writes names the person's keys: this page reads the record.
        showVerify: async (req, res, pending) => renderVerify(req, res, pages, pending, await enrolledRecord(context, pending)),
        verify: async (req, res, pending, read) => verify(req, res, pending, await enrolledRecord(context, pending, read), pages),
        confirmView: (req, who, record) => confirmView(req, who, record, pages),
        confirm: (req, res, who, record) => confirm(req, res, who, record, pages),
        settingsView: (req, _who, record, fresh) => listView(req, record, fresh, pages),
      };
    },
  };
}
