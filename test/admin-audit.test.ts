import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'mocha';
import type supertest from 'supertest';
import { RedisStore, type TwoFactorEvent, type TwoFactorStore } from 'passport-second-factor';
import { csvCell } from '../src/admin/export.js';
import { csrfFrom, enrolTotp, postLogin, startPortal, type TestPortal } from './helpers/portal.js';
import { redisForSuite } from './helpers/redis-suite.js';

const adminEventTypes = new Set(['reset', 'reset_refused', 'unlocked', 'unlock_refused']);
const adminEvents = (portal: TestPortal) => portal.events.filter((e) => adminEventTypes.has(e.type));
const DAY = 24 * 60 * 60 * 1000;

/**
 * Password and a freshly enrolled authenticator app: a fully signed-in browser. Whichever 2FA
 * page the login sends to, the enrolment starts at /2fa/enrol.
 */
async function signedIn(portal: TestPortal, username: string): Promise<supertest.Agent> {
  const agent = portal.agent();
  const login = await postLogin(agent, { username, password: 'demo-password' });
  assert.equal(login.status, 303);
  assert.match(String(login.headers.location), /^\/2fa(\/|$)/);
  await enrolTotp(agent, portal.clock);
  return agent;
}

/** Enrolled, as far as a reset is concerned, without a sign-in of their own. */
const enrolled = (portal: TestPortal, ...ids: string[]) =>
  Promise.all(ids.map((id) => portal.store.saveUser(id, { generation: 0, method: 'totp', factorId: 'f', secret: 'sealed' })));

/** The confirm page, then its form posted with `fields`. */
async function postReset(admin: supertest.Agent, id: string, fields: Record<string, unknown>) {
  const confirm = await admin.get(`/admin/2fa/users/${id}/reset`).expect(200);
  return admin.post(`/admin/2fa/users/${id}/reset`).type('form').send({ _csrf: csrfFrom(confirm.text), ...fields });
}

async function resetWith(admin: supertest.Agent, id: string, reason: string): Promise<void> {
  const res = await postReset(admin, id, { reason });
  assert.equal(res.status, 303, res.text.slice(0, 300));
}

interface ExportedEntry {
  at: string;
  action: string;
  outcome: string;
  detail: string | null;
  actorId: string | null;
  actorName: string | null;
  personId: string;
  personName: string;
  reason: string | null;
}

async function exported(agent: supertest.Agent, query: Record<string, string> = {}): Promise<ExportedEntry[]> {
  const res = await agent.get('/admin/2fa/audit.json').query(query).expect(200);
  return res.body.entries as ExportedEntry[];
}

/** The CSV's data lines (the header is checked where it matters). */
async function csvLines(agent: supertest.Agent, query: Record<string, string> = {}): Promise<string[]> {
  const res = await agent.get('/admin/2fa/audit.csv').query(query).expect(200);
  return res.text.split('\r\n').slice(1, -1);
}

const summary = (entries: readonly ExportedEntry[]) => entries.map((e) => `${e.action} ${e.outcome} ${e.actorId} -> ${e.personId}`);

describe('admin audit: the reason of a reset and the exports of the trail (Redis)', () => {
  const redis = redisForSuite();
  beforeEach(() => redis.client.flushAll());

  /** A Redis-backed portal; `failing.deleteUser` makes the next reset's store write fail. */
  function redisPortal(extra: { notify?: (user: { id: string }, event: TwoFactorEvent) => void } = {}) {
    const failing = { deleteUser: false };
    const inner = new RedisStore({ client: redis.client });
    const store: TwoFactorStore = new Proxy(inner, {
      get(target, property, receiver) {
        if (property === 'deleteUser' && failing.deleteUser) return () => Promise.reject(new Error('redis down'));
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const portal = startPortal({ redis: redis.client, secondFactor: { store, ...extra } });
    return { portal, failing };
  }

  describe('the reason is required', () => {
    it('shows a labelled, required Reason field with its hint on the confirm page', async () => {
      const { portal } = redisPortal();
      await enrolled(portal, 'u4');
      const bea = await signedIn(portal, 'bot.admin');
      const confirm = await bea.get('/admin/2fa/users/u4/reset').expect(200);
      assert.match(confirm.text, /<label for="reason">Reason<\/label>/);
      assert.match(confirm.text, /<p class="sf-hint" id="reason-hint">Why are you resetting their two-step verification\?/);
      assert.match(confirm.text, /<input id="reason" name="reason" type="text" maxlength="200" required/);
      assert.match(confirm.text, /aria-describedby="reason-hint"/);
      assert.doesNotMatch(confirm.text, /aria-invalid/);
    });

    it('refuses a missing, blank, too short, 201-character or control-character reason: 400 on the confirm page, the error on the field, nothing reset, no event', async () => {
      const { portal } = redisPortal();
      await enrolled(portal, 'u4');
      const bea = await signedIn(portal, 'bot.admin');
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{}, /Enter a reason for the reset\./],
        [{ reason: '' }, /Enter a reason for the reset\./],
        [{ reason: '   ' }, /Enter a reason for the reset\./],
        [{ reason: ['Lost phone', 'again'] }, /Enter a reason for the reset\./],
        [{ reason: 'ab' }, /Enter a reason of at least 3 characters\./],
        [{ reason: 'x'.repeat(201) }, /Enter a reason of at most 200 characters\./],
        [{ reason: 'y'.repeat(3000) }, /Enter a reason of at most 200 characters\./],
        [{ reason: 'Lost\nphone' }, /Enter the reason on one line, without tabs or other control characters\./],
        [{ reason: 'Lost\tphone' }, /without tabs or other control characters/],
        [{ reason: 'Lost phone\r' }, /without tabs or other control characters/],
        [{ reason: 'Lost \u0000phone' }, /without tabs or other control characters/],
        [{ reason: 'Lost \u202Ephone' }, /without tabs or other control characters/],
      ];
      for (const [fields, message] of cases) {
        const res = await postReset(bea, 'u4', fields);
        const what = JSON.stringify(fields).slice(0, 60);
        assert.equal(res.status, 400, what);
        assert.match(res.text, /<div class="sf-alert" role="alert" id="sf-error">/, what);
        assert.match(res.text, message, what);
        assert.match(res.text, /aria-describedby="reason-hint sf-error"\s+aria-invalid="true"/, `${what}: the error is linked to the field`);
        assert.match(res.text, /<h1>Reset two-step verification for Ned North \(ned@northwind\.example\)\?<\/h1>/, `${what}: the same confirm page`);
        assert.doesNotMatch(res.text, /    at |Error:/, 'no stack trace');
      }
      const again = await postReset(bea, 'u4', { reason: 'ab' });
      assert.match(again.text, /name="reason"[^>]*value="ab"/, 'what was typed is shown again');
      assert.equal((await portal.store.getUser('u4'))?.method, 'totp', 'nothing was reset');
      assert.deepEqual(adminEvents(portal), [], 'a mistake in the form is no event');
      assert.deepEqual(await exported(bea), [], 'nor an audit entry');
    });

    it('refuses the same through the JSON API: 400 reason_required naming the problem', async () => {
      const { portal } = redisPortal();
      await enrolled(portal, 'u4');
      const bea = await signedIn(portal, 'bot.admin');
      const token = (await bea.get('/admin/2fa/api/csrf').expect(200)).body.csrfToken as string;
      const post = (body?: object) => bea.post('/admin/2fa/api/users/u4/reset').set('x-csrf-token', token).send(body);
      assert.deepEqual((await post().expect(400)).body, { error: 'reason_required', problem: 'missing', userId: 'u4' });
      assert.deepEqual((await post({ reason: ' \t ' }).expect(400)).body.problem, 'missing');
      assert.deepEqual((await post({ reason: 'bell\u0007here' }).expect(400)).body.problem, 'control_characters');
      assert.deepEqual((await post({ reason: 42 }).expect(400)).body.problem, 'missing');
      assert.deepEqual((await post({ reason: 'é'.repeat(201) }).expect(400)).body.problem, 'too_long');
      assert.equal((await portal.store.getUser('u4'))?.method, 'totp');
      assert.deepEqual(adminEvents(portal), []);

      // 200 characters (accented ones count once), spaces around trimmed: accepted.
      const reason = `Nouvel appareil ${'é'.repeat(184)}`;
      assert.equal([...reason].length, 200);
      await post({ reason: `  ${reason}  ` }).expect(200);
      assert.equal(await portal.store.getUser('u4'), null);
      assert.equal(adminEvents(portal)[0]?.note, reason);
    });

    it('keeps the one answer for unknown and out-of-reach people, reason or not', async () => {
      const { portal } = redisPortal();
      await enrolled(portal, 'u8');
      const nora = await signedIn(portal, 'northwind.admin');
      const token = csrfFrom((await nora.get('/admin/2fa').expect(200)).text);
      for (const fields of [{}, { reason: 'Lost phone' }]) {
        const forbidden = await nora.post('/admin/2fa/users/u8/reset').type('form').send({ _csrf: token, ...fields });
        const unknown = await nora.post('/admin/2fa/users/u404/reset').type('form').send({ _csrf: token, ...fields });
        assert.equal(forbidden.status, 404);
        assert.equal(forbidden.text, unknown.text);
      }
      assert.equal((await portal.store.getUser('u8'))?.method, 'totp');
    });
  });

  describe('the reason in the event, the list and the exports', () => {
    it('puts the reason and the admin’s name in the reset event, the audit list and both exports', async () => {
      const { portal } = redisPortal();
      await enrolled(portal, 'u4');
      const bea = await signedIn(portal, 'bot.admin');
      await resetWith(bea, 'u4', '  Lost their phone on a trip  ');

      const [event] = adminEvents(portal);
      assert.deepEqual(
        { ...event, at: event!.at.getTime() },
        { type: 'reset', userId: 'u4', actorId: 'u1', actorName: 'Bea Admin', outcome: 'allowed', note: 'Lost their phone on a trip', at: portal.clock.t },
      );
      const list = await bea.get('/admin/2fa').expect(200);
      assert.match(list.text, /Bea Admin reset two-step verification for Ned North\. Reason: “Lost their phone on a trip”<\/li>/);
      assert.match(list.text, /<a href="\/admin\/2fa\/audit\.csv" download>Download all as CSV<\/a>/);
      assert.match(list.text, /<a href="\/admin\/2fa\/audit\.json" download>Download all as JSON<\/a>/);
      assert.match(list.text, /<label for="audit-outcome">Outcome<\/label>/);

      const at = new Date(portal.clock.t).toISOString();
      assert.deepEqual(await exported(bea), [
        { at, action: 'reset', outcome: 'allowed', detail: null, actorId: 'u1', actorName: 'Bea Admin', personId: 'u4', personName: 'Ned North', reason: 'Lost their phone on a trip' },
      ]);
      const csv = await bea.get('/admin/2fa/audit.csv').expect(200);
      assert.match(String(csv.headers['content-type']), /^text\/csv; charset=utf-8/);
      const day = at.slice(0, 10);
      assert.equal(csv.headers['content-disposition'], `attachment; filename="second-factor-audit-${day}.csv"`);
      assert.equal(csv.headers['cache-control'], 'no-store');
      assert.equal(
        csv.text,
        'at,action,outcome,detail,actorId,actorName,personId,personName,reason\r\n' +
          `"${at}","reset","allowed","","u1","Bea Admin","u4","Ned North","Lost their phone on a trip"\r\n`,
      );
      const json = await bea.get('/admin/2fa/audit.json').expect(200);
      assert.equal(json.headers['content-disposition'], `attachment; filename="second-factor-audit-${day}.json"`);
      assert.match(String(json.headers['content-type']), /^application\/json/);
      assert.equal(adminEvents(portal).length, 1, 'reading the trail is no event');
    });

    it('tells the person through notify who reset their 2FA, when and why', async () => {
      const notified: Array<{ user: { id: string }; event: TwoFactorEvent }> = [];
      const { portal } = redisPortal({ notify: (user, event) => void notified.push({ user, event }) });
      await enrolled(portal, 'u6');
      const nora = await signedIn(portal, 'northwind.admin');
      portal.clock.advance(90);
      await resetWith(nora, 'u6', 'Asked by phone, identity checked');
      // notify may run after the answer (it is not awaited by the request): wait for it, bounded.
      for (let i = 0; i < 100 && !notified.some(({ event }) => event.type === 'reset'); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      const resets = notified.filter(({ event }) => event.type === 'reset');
      assert.equal(resets.length, 1);
      const [{ user, event }] = resets as [(typeof resets)[number]];
      assert.equal(user.id, 'u6');
      assert.equal(event.actorName, 'Nora North');
      assert.equal(event.actorId, 'u3');
      assert.equal(event.at.getTime(), portal.clock.t);
      assert.equal(event.note, 'Asked by phone, identity checked');
    });
  });

  describe('filters', () => {
    /**
     * Day 1: Bea resets Ned, Bea's reset of herself is refused. Day 3: Nora resets Abe, a
     * reset of Ada fails in the store.
     */
    async function history() {
      const { portal, failing } = redisPortal();
      await enrolled(portal, 'u4', 'u5', 'u6');
      const bea = await signedIn(portal, 'bot.admin');
      const nora = await signedIn(portal, 'northwind.admin');
      const day1 = new Date(portal.clock.t).toISOString().slice(0, 10);
      await resetWith(bea, 'u4', 'Lost phone');
      const self = await bea.post('/admin/2fa/users/u1/reset').type('form').send({ _csrf: csrfFrom((await bea.get('/admin/2fa')).text), reason: 'Mine' });
      assert.equal(self.status, 404);
      portal.clock.advance((2 * DAY) / 1000);
      const day3 = new Date(portal.clock.t).toISOString().slice(0, 10);
      await resetWith(nora, 'u6', 'New phone');
      failing.deleteUser = true;
      const failed = await postReset(nora, 'u5', { reason: 'New laptop' });
      assert.equal(failed.status, 503);
      failing.deleteUser = false;
      return { portal, bea, nora, day1, day3 };
    }

    it('narrows the export by actor, person, outcome and date range, each on its own', async () => {
      const { bea, day1, day3 } = await history();
      const all = summary(await exported(bea));
      assert.deepEqual(all, ['reset failed u3 -> u5', 'reset allowed u3 -> u6', 'reset refused u1 -> u1', 'reset allowed u1 -> u4']);
      const narrowed: Array<[Record<string, string>, string[]]> = [
        [{ actor: 'u3' }, ['reset failed u3 -> u5', 'reset allowed u3 -> u6']],
        [{ actor: 'nora' }, ['reset failed u3 -> u5', 'reset allowed u3 -> u6']],
        [{ person: 'u4' }, ['reset allowed u1 -> u4']],
        [{ person: 'ABE' }, ['reset allowed u3 -> u6']],
        [{ outcome: 'allowed' }, ['reset allowed u3 -> u6', 'reset allowed u1 -> u4']],
        [{ outcome: 'refused' }, ['reset refused u1 -> u1']],
        [{ outcome: 'failed' }, ['reset failed u3 -> u5']],
        [{ from: day3 }, ['reset failed u3 -> u5', 'reset allowed u3 -> u6']],
        [{ to: day1 }, ['reset refused u1 -> u1', 'reset allowed u1 -> u4']],
        [{ from: `${day1}T00:00:00Z`, to: `${day1}T23:59:59.999Z` }, ['reset refused u1 -> u1', 'reset allowed u1 -> u4']],
        [{ actor: 'u3', outcome: 'allowed' }, ['reset allowed u3 -> u6']],
        // The page's filter form sends every field, empty ones too: no filter.
        [{ actor: '', person: '', outcome: '', from: '', to: '' }, all],
      ];
      for (const [query, want] of narrowed) {
        assert.deepEqual(summary(await exported(bea, query)), want, JSON.stringify(query));
        assert.equal((await csvLines(bea, query)).length, want.length, `CSV ${JSON.stringify(query)}`);
      }
      const failed = (await exported(bea, { outcome: 'failed' }))[0]!;
      assert.equal(failed.detail, 'store_unavailable');
      assert.equal(failed.reason, 'New laptop');
      const refused = (await exported(bea, { outcome: 'refused' }))[0]!;
      assert.equal(refused.detail, 'self');
      assert.equal(refused.reason, null, 'a refused reset keeps no reason: it was never checked');
    });

    it('refuses a bad filter with 400 naming the parameter, in JSON and as a page', async () => {
      const { portal } = redisPortal();
      const bea = await signedIn(portal, 'bot.admin');
      const bad: Array<[string, string]> = [
        ['outcome=maybe', 'outcome'],
        ['from=2026-13-01', 'from'],
        ['to=yesterday', 'to'],
        ['from=2026-12-02&to=2026-12-01', 'to'],
        [`actor=${'x'.repeat(201)}`, 'actor'],
        ['person=u4&person=u6', 'person'],
        ['outcom=allowed', 'outcom'],
      ];
      for (const [query, parameter] of bad) {
        const json = await bea.get('/admin/2fa/audit.json').query(query);
        assert.equal(json.status, 400, JSON.stringify(query));
        assert.deepEqual(json.body, { error: 'bad_request', parameter });
        const page = await bea.get('/admin/2fa/audit.csv').query(query);
        assert.equal(page.status, 400);
        assert.match(page.text, new RegExp(`The export filter “${parameter}” is not valid\\.`));
        assert.doesNotMatch(String(page.headers['content-disposition'] ?? ''), /attachment/);
      }
    });
  });

  it('never gives a partner admin another firm’s people, filters or not', async () => {
    const { portal } = redisPortal();
    await enrolled(portal, 'u4', 'u8', 'u10');
    const bea = await signedIn(portal, 'bot.admin');
    await resetWith(bea, 'u4', 'Lost phone');
    await resetWith(bea, 'u8', 'Left Southpaw');
    await resetWith(bea, 'u10', 'New phone');
    const nora = await signedIn(portal, 'northwind.admin');
    const sam = await signedIn(portal, 'southpaw.admin');
    assert.deepEqual(summary(await exported(nora)), ['reset allowed u1 -> u4']);
    assert.deepEqual(summary(await exported(sam)), ['reset allowed u1 -> u10', 'reset allowed u1 -> u8']);
    const queries: Array<Record<string, string>> = [{ person: 'u8' }, { person: 'Sue' }, { person: 'globex' }, { actor: 'u1', outcome: 'allowed' }];
    for (const query of queries) {
      const names = (await exported(nora, query)).map((e) => e.personName);
      assert.ok(!names.includes('Sue South') && !names.includes('Gia Globex'), `${JSON.stringify(query)}: ${names.join(', ')}`);
    }
    const csv = (await nora.get('/admin/2fa/audit.csv').expect(200)).text;
    assert.doesNotMatch(csv, /Sue South|Gia Globex|u8|u10|Southpaw|New phone/);
    assert.doesNotMatch((await nora.get('/admin/2fa').expect(200)).text, /Sue South|Gia Globex/);
  });

  it('answers the exports to admins only', async () => {
    const { portal } = redisPortal();
    const ned = await signedIn(portal, 'northwind.ops');
    await ned.get('/admin/2fa/audit.csv').set('Accept', 'text/html').expect(403);
    await ned.get('/admin/2fa/audit.json').expect(403);
    await portal.agent().get('/admin/2fa/audit.csv').expect(303).expect('location', '/login?returnTo=%2Fadmin%2F2fa%2Faudit.csv');
  });

  it('neutralises spreadsheet formulas in the CSV and quotes every cell', async () => {
    const { portal } = redisPortal();
    await enrolled(portal, 'u4', 'u5', 'u6', 'u8');
    const bea = await signedIn(portal, 'bot.admin');
    await resetWith(bea, 'u4', '=HYPERLINK("http://evil.example","Click")');
    await resetWith(bea, 'u5', '+1 555 0100 called');
    await resetWith(bea, 'u6', '@SUM(A1:A9), "quoted", done');
    await resetWith(bea, 'u8', '-2+3');
    const cells = (await csvLines(bea)).map((line) => /,"((?:[^"]|"")*)"$/.exec(line)?.[1]);
    assert.deepEqual(cells, [`'-2+3`, `'@SUM(A1:A9), ""quoted"", done`, `'+1 555 0100 called`, `'=HYPERLINK(""http://evil.example"",""Click"")`]);
    // JSON is data, not a spreadsheet: the reason as written.
    assert.equal((await exported(bea, { person: 'u4' }))[0]!.reason, '=HYPERLINK("http://evil.example","Click")');
    // Tab and carriage return can't be in a reason (refused above); a name could hold them.
    assert.equal(csvCell('\tcmd'), `"'\tcmd"`);
    assert.equal(csvCell('\r=1'), `"'\r=1"`);
    assert.equal(csvCell('Ned "the" North'), '"Ned ""the"" North"');
    assert.equal(csvCell(null), '""');
  });
});
