import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import ejs from 'ejs';
import { before, describe, it } from 'mocha';
import { createDirectory } from '../src/admin/directory.js';
import { createDryRun, dryRunView, type DryRunCount, type DryRunRequest, type StopReason } from '../src/admin/dry-run.js';
import { parseOptions } from '../src/options.js';
import { RedisStore, TwoFactorError, type TwoFactorStore } from '../src/index.js';
import {
  generatedDirectory,
  generatedDryRun,
  generatedPortalOptions,
  generatePeople,
  GENERATED_GENERATION,
  writeRecords,
  type GeneratedPerson,
} from '../bench/dry-run.js';
import { failingFindings, launchBrowser, runAxe } from './e2e/helpers.js';
import { redisForSuite } from './helpers/redis-suite.js';

const PEOPLE = 10_000;
const partialFile = fileURLToPath(new URL('../views/admin/partials/dry-run.ejs', import.meta.url));
const stylesheet = readFileSync(new URL('../public/second-factor.css', import.meta.url), 'utf8');

/** Wraps a store and counts the calls made through it, with the ids each getUsers was given. */
function countingStore(inner: TwoFactorStore) {
  const calls: { method: string; ids?: readonly string[] }[] = [];
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push({ method: String(property), ...(property === 'getUsers' ? { ids: args[0] as string[] } : {}) });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls, count: (method: string) => calls.filter((call) => call.method === method).length };
}

/** What the generator says the proposal does to one person: worked out here, apart from the engine. */
function expectedReason(person: GeneratedPerson, required: (person: GeneratedPerson) => boolean, voids = false): StopReason | undefined {
  if (!required(person)) return undefined;
  if (!voids && person.state === 'enrolled') return undefined;
  return !voids && person.state === 'skipped' ? 'skipped' : 'not_enrolled';
}

type Counts = Map<string, DryRunCount>;

/** Counts of the people by a key (role or tenant), as the engine should report them. */
function expectedCounts(people: readonly GeneratedPerson[], keyOf: (person: GeneratedPerson) => string, reasonOf: (person: GeneratedPerson) => StopReason | undefined): Counts {
  const counts: Counts = new Map();
  for (const person of people) {
    const key = keyOf(person);
    const was = counts.get(key) ?? { people: 0, stopped: 0, notEnrolled: 0, skipped: 0 };
    const why = reasonOf(person);
    counts.set(key, {
      people: was.people + 1,
      stopped: was.stopped + (why ? 1 : 0),
      notEnrolled: was.notEnrolled + (why === 'not_enrolled' ? 1 : 0),
      skipped: was.skipped + (why === 'skipped' ? 1 : 0),
    });
  }
  return counts;
}

const countsOf = (groups: readonly ({ key: string } & DryRunCount)[]): Counts =>
  new Map(groups.map(({ key, people, stopped, notEnrolled, skipped }) => [key, { people, stopped, notEnrolled, skipped }]));

const total = (counts: Counts): DryRunCount =>
  [...counts.values()].reduce((a, b) => ({ people: a.people + b.people, stopped: a.stopped + b.stopped, notEnrolled: a.notEnrolled + b.notEnrolled, skipped: a.skipped + b.skipped }));

const everyone = () => true;
const required = () => 'required' as const;

describe('dry run of a stricter policy (10,000 generated people, real Redis)', function () {
  // Writing 10,000 records and reading them a few times over, on a loaded machine.
  this.timeout(60_000);

  const redis = redisForSuite();
  const people = generatePeople(PEOPLE);
  const botAdmin = people.find((person) => person.role === 'bot-admin')!;
  let store: RedisStore;

  before(async () => {
    store = new RedisStore({ client: redis.client, prefix: 'dry-run:' });
    await writeRecords(store, people);
  });

  /** A run as the bot admin (everyone in reach) unless told otherwise. */
  function run(request: Partial<DryRunRequest> & { as?: GeneratedPerson; over?: TwoFactorStore } = {}) {
    const { engine, actorOf, directoryCalls } = generatedDryRun(request.over ?? store, people);
    const { as = botAdmin, over: _over, ...rest } = request;
    const result = engine.run({ actor: actorOf(as), effectiveModeOf: required, generation: GENERATED_GENERATION, voidsEnrolments: false, ...rest });
    return { result, directoryCalls };
  }

  it('counts, by role and by firm, exactly the people the generator made not enrolled or skipped', async () => {
    const { result } = run();
    const { totals, byRole, byFirm, scanned, truncated, stoppedBy } = await result;
    const reason = (person: GeneratedPerson) => expectedReason(person, everyone);
    const roles = expectedCounts(people, (person) => person.role, reason);
    const firms = expectedCounts(people, (person) => person.tenant, reason);
    assert.deepEqual(countsOf(byRole), roles);
    assert.deepEqual(countsOf(byFirm), firms);
    assert.deepEqual(totals, total(roles));
    // The generator's mix, so that the figures above are not all zeros: 6 in 10 stopped.
    assert.deepEqual(totals, { people: PEOPLE, stopped: 6_000, notEnrolled: 4_000, skipped: 2_000 });
    assert.equal(byRole.length, 6);
    assert.equal(byFirm.length, 21);
    assert.equal(byFirm.find((group) => group.key === 'p1/c2')?.name, 'Client 1.2 (Partner 1)');
    assert.deepEqual({ scanned, truncated, stoppedBy }, { scanned: PEOPLE, truncated: false, stoppedBy: undefined });
  });

  it('lets a partner admin count only their own firm and its clients', async () => {
    const partnerAdmin = people.find((person) => person.role === 'partner-admin' && person.tenant === 'p2')!;
    const { result } = run({ as: partnerAdmin });
    const { totals, byFirm, byRole } = await result;
    const inReach = people.filter((person) => person.tenant === 'p2' || person.tenant.startsWith('p2/'));
    const firms = expectedCounts(inReach, (person) => person.tenant, (person) => expectedReason(person, everyone));
    assert.deepEqual(countsOf(byFirm), firms);
    assert.deepEqual([...firms.keys()].sort(), ['p2', 'p2/c1', 'p2/c2', 'p2/c3', 'p2/c4']);
    assert.deepEqual(totals, total(firms));
    assert.ok(!byRole.some((group) => group.key.startsWith('bot-')), 'bot staff are out of a partner admin\'s reach');
  });

  it('stops only the people the proposed mode requires (here: admins), and never someone enrolled now', async () => {
    const admins = (person: { role: string | undefined }) => person.role?.endsWith('-admin') === true;
    const { result } = run({ effectiveModeOf: (person) => (admins(person) ? 'required' : 'optional') });
    const { byRole, totals } = await result;
    const roles = expectedCounts(people, (person) => person.role, (person) => expectedReason(person, admins));
    assert.deepEqual(countsOf(byRole), roles);
    assert.equal(byRole.find((group) => group.key === 'client-ops')?.stopped, 0);
    assert.ok(totals.stopped > 0 && totals.stopped < 1_000, `stopped ${totals.stopped}`);
  });

  it('counts every enrolment and skip as none when the change turns 2FA on from off', async () => {
    const { result } = run({ voidsEnrolments: true });
    const { totals, byFirm } = await result;
    assert.deepEqual(totals, { people: PEOPLE, stopped: PEOPLE, notEnrolled: PEOPLE, skipped: 0 });
    assert.deepEqual(countsOf(byFirm), expectedCounts(people, (person) => person.tenant, (person) => expectedReason(person, everyone, true)));
  });

  it('pages the list of stopped people in directory order, each person once, with the reason', async () => {
    const stopped = people.flatMap((person) => {
      const why = expectedReason(person, everyone);
      return why ? [{ id: person.id, why }] : [];
    });
    const pageOf = async (page: number) => (await run({ page, pageSize: 50 }).result).list;
    const [first, second, last, beyond] = await Promise.all([pageOf(1), pageOf(2), pageOf(120), pageOf(121)]);
    assert.deepEqual(first.people.map(({ id, why }) => ({ id, why })), stopped.slice(0, 50));
    assert.deepEqual(second.people.map(({ id, why }) => ({ id, why })), stopped.slice(50, 100));
    assert.deepEqual(last.people.map((person) => person.id), stopped.slice(5_950).map((person) => person.id));
    assert.deepEqual({ pages: first.pages, page: beyond.page, people: beyond.people.length }, { pages: 120, page: 121, people: 0 });
    const [person] = first.people;
    const generated = people.find((each) => each.id === person!.id)!;
    assert.deepEqual(person, { id: generated.id, name: generated.name, role: generated.role, firm: generated.firm, why: stopped[0]!.why });
  });

  it('stops at the people limit, says it is truncated, and counts exactly the first N', async () => {
    const { result } = run({ limits: { maxPeople: 3_210 } });
    const { totals, byRole, scanned, truncated, stoppedBy } = await result;
    assert.deepEqual({ scanned, truncated, stoppedBy }, { scanned: 3_210, truncated: true, stoppedBy: 'people' });
    const roles = expectedCounts(people.slice(0, 3_210), (person) => person.role, (person) => expectedReason(person, everyone));
    assert.deepEqual(countsOf(byRole), roles);
    assert.equal(totals.people, 3_210);
  });

  it('is not truncated when the directory holds exactly the people limit', async () => {
    const { result } = run({ limits: { maxPeople: PEOPLE } });
    const { scanned, truncated } = await result;
    assert.deepEqual({ scanned, truncated }, { scanned: PEOPLE, truncated: false });
  });

  it('stops at the time budget between pages, truncated, having counted whole pages', async () => {
    const { directory } = generatedDirectory(people);
    // Each directory page takes longer than the whole budget: the run must stop after the first.
    const slow = { ...directory, search: async (query: string, options: Parameters<typeof directory.search>[1]) => (await sleep(15), directory.search(query, options)) };
    const config = parseOptions(generatedPortalOptions(store, slow));
    const personDirectory = createDirectory(config, config.admin!);
    const engine = createDryRun(config, config.admin!, personDirectory);
    const actor = personDirectory.personOf(botAdmin as unknown as Express.User)!;
    const result = await engine.run({ actor, effectiveModeOf: required, generation: GENERATED_GENERATION, voidsEnrolments: false, limits: { timeBudgetMs: 5 } });
    assert.deepEqual({ scanned: result.scanned, truncated: result.truncated, stoppedBy: result.stoppedBy, directoryCalls: result.directoryCalls }, { scanned: 500, truncated: true, stoppedBy: 'time', directoryCalls: 1 });
  });

  it('reads the store in batches: ceil(n / batch) getUsers calls of at most a batch each, and no getUser', async () => {
    const counting = countingStore(store);
    const { result, directoryCalls } = run({ over: counting.store, limits: { storeBatchSize: 200, directoryPageSize: 500 } });
    const { storeCalls, scanned } = await result;
    assert.equal(scanned, PEOPLE);
    assert.equal(counting.count('getUsers'), Math.ceil(PEOPLE / 200));
    assert.equal(storeCalls, Math.ceil(PEOPLE / 200));
    assert.equal(counting.count('getUser'), 0);
    assert.deepEqual([...new Set(counting.calls.map((call) => call.method))], ['getUsers'], 'nothing but batch reads: no write');
    assert.ok(counting.calls.every((call) => call.ids!.length <= 200));
    assert.equal(new Set(counting.calls.flatMap((call) => call.ids!)).size, PEOPLE, 'each person read once');
    assert.equal(directoryCalls.searches, PEOPLE / 500, 'the directory in pages of 500');
  });

  it('answers store_unavailable, not a partial count, when the store fails', async () => {
    const failing = new Proxy(store, {
      get: (target, property, receiver) =>
        property === 'getUsers' ? async () => Promise.reject(new Error('connection lost')) : Reflect.get(target, property, receiver),
    });
    await assert.rejects(run({ over: failing }).result, (error: unknown) => error instanceof TwoFactorError && error.code === 'store_unavailable');
  });

  it('renders the counts and the list as captioned tables, and the page links carry the proposal', async () => {
    const result = await run({ page: 2, pageSize: 10, limits: { maxPeople: 1_000 } }).result;
    const view = dryRunView(result, { path: '/admin/2fa/policy/dry-run', proposed: { mode: 'required', firm: 'p1' } });
    const { config } = generatedDryRun(store, people);
    const html = await ejs.renderFile(partialFile, { dryRun: view, t: config.i18n.translator('en') });
    assert.match(html, /<h2 id="dry-run-title">Who this change would stop at their next sign-in<\/h2>/);
    assert.match(html, /Counted the first 1000 people only/);
    assert.match(html, /600 of the 1000 people you can see would have to set up two-step verification/);
    assert.match(html, /<caption>People stopped, by role<\/caption>/);
    assert.match(html, /<caption>People stopped, by firm<\/caption>/);
    assert.match(html, /<caption>People stopped, page 2 of 60<\/caption>/);
    assert.equal([...html.matchAll(/<tr data-stopped-id=/g)].length, 10);
    assert.match(html, /<a href="\/admin\/2fa\/policy\/dry-run\?mode=required&amp;firm=p1" rel="prev">/);
    assert.match(html, /<a href="\/admin\/2fa\/policy\/dry-run\?mode=required&amp;firm=p1&amp;page=3" rel="next">/);
    assert.deepEqual(view.fields, [{ name: 'mode', value: 'required' }, { name: 'firm', value: 'p1' }]);
    const es = await ejs.renderFile(partialFile, { dryRun: view, t: config.i18n.translator('es') });
    assert.match(es, /Solo se contaron las primeras 1000 personas/);
  });

  it('pages a preview that answers a POST with forms carrying the proposal, the page and the CSRF token', async () => {
    const result = await run({ page: 1, pageSize: 10 }).result;
    const view = dryRunView(result, { path: '/admin/2fa/policy', proposed: { mode: 'required', deadlineDays: '14' }, method: 'post' });
    const { config } = generatedDryRun(store, people);
    const html = await ejs.renderFile(partialFile, { dryRun: view, t: config.i18n.translator('en'), csrfToken: 'token-1' });
    assert.doesNotMatch(html, /<a href=/, 'no GET link that would drop the proposal');
    const form = /<form method="post" action="\/admin\/2fa\/policy" class="sf-inline">([\s\S]*?)<\/form>/.exec(html)?.[1] ?? '';
    assert.match(form, /name="_csrf" value="token-1"/);
    assert.match(form, /name="mode" value="required"/);
    assert.match(form, /name="deadlineDays" value="14"/);
    assert.match(form, /name="page" value="2"/);
    assert.match(form, /<button type="submit" class="sf-link" data-rel="next">Next<\/button>/);
  });

  it('passes axe in Chromium (tables, captions, headings, contrast), with GET links and with POST forms', async () => {
    const result = await run({ page: 2, pageSize: 10, limits: { maxPeople: 1_000 } }).result;
    const { config } = generatedDryRun(store, people);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      for (const method of ['get', 'post'] as const) {
        const view = dryRunView(result, { path: '/admin/2fa/policy', proposed: { mode: 'required' }, method });
        const partial = await ejs.renderFile(partialFile, { dryRun: view, t: config.i18n.translator('en'), csrfToken: 't' });
        await page.setContent(`<!doctype html><html lang="en"><head><title>Policy</title><style>${stylesheet}</style></head><body><main><h1>Two-step verification for the portal</h1>${partial}</main></body></html>`);
        assert.equal(await page.locator('table caption').count(), 3);
        assert.deepEqual(failingFindings(await runAxe(page)), [], `axe, ${method}`);
      }
    } finally {
      await browser.close();
    }
  });
});
