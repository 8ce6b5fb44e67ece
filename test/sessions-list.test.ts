import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'mocha';
import { generateSync } from 'otplib';
import { createClient, type RedisClientType } from 'redis';
import { BrowserClient, csrfTokenIn, keepAliveAgent, loginForm, type HttpResponse, type RequestInit } from './helpers/http-client.js';
import { startPortalInstance, type PortalInstance } from './helpers/portal-instance.js';
import { startRedis, type RedisServer } from './helpers/redis.js';
import { enrolTotp, signIn, startPortal } from './helpers/portal.js';

const PASSWORD = 'demo-password';
const agent = keepAliveAgent(16);
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15';
const EDGE = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0';

/** A browser: one cookie jar and its own User-Agent on every request, redirects included. */
class Browser extends BrowserClient {
  constructor(private readonly userAgent: string) {
    super(agent);
  }

  override request(baseUrl: string, path: string, init: RequestInit = {}): Promise<HttpResponse> {
    return super.request(baseUrl, path, { ...init, headers: { 'user-agent': this.userAgent, ...init.headers } });
  }
}

const codeAt = (secret: string, ms: number) => generateSync({ secret, epoch: Math.floor(ms / 1000) });

/** Enrols an authenticator app on `url` in `browser`, which stays signed in; the secret and recovery codes. */
async function enrol(browser: Browser, url: string, username: string) {
  const choose = await browser.follow(url, '/login', { form: await loginForm(browser, url, { username, password: PASSWORD }) });
  assert.equal(choose.status, 200, `sign-in of ${username}`);
  const page = await browser.follow(url, '/2fa/enrol', { form: { _csrf: csrfTokenIn(choose.text), method: 'totp' } });
  const secret = /id="totp-key">([A-Z2-7 ]+)</.exec(page.text)?.[1]?.replace(/ /g, '');
  assert.ok(secret, 'a TOTP key on the enrolment page');
  const shown = await browser.follow(url, '/2fa/enrol/totp', { form: { _csrf: csrfTokenIn(page.text), code: codeAt(secret, Date.now()) } });
  const recoveryCodes = [...shown.text.matchAll(/<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code><\/li>/g)].map((m) => m[1]!);
  assert.ok(recoveryCodes.length > 0, 'recovery codes follow the enrolment');
  const done = await browser.follow(url, '/2fa/recovery-codes/continue', { form: { _csrf: csrfTokenIn(shown.text) } });
  assert.equal(done.status, 200, 'enrolment finished');
  return { secret, recoveryCodes };
}

/** The password step on `url`, then the next step's TOTP code, "Remember this device" ticked. */
async function signInWithCode(browser: Browser, url: string, username: string, secret: string): Promise<void> {
  await browser.request(url, '/login', { form: await loginForm(browser, url, { username, password: PASSWORD }) });
  const page = await browser.follow(url, '/2fa');
  const done = await browser.request(url, '/2fa/verify', { form: { _csrf: csrfTokenIn(page.text), code: codeAt(secret, Date.now() + 30_000), remember: '1' } });
  assert.equal(done.status, 303, 'the code is accepted');
}

/** The password step on `url`, then a recovery code. */
async function signInWithRecoveryCode(browser: Browser, url: string, username: string, recoveryCode: string): Promise<void> {
  await browser.request(url, '/login', { form: await loginForm(browser, url, { username, password: PASSWORD }) });
  const page = await browser.follow(url, '/2fa/recovery');
  const done = await browser.request(url, '/2fa/recovery', { form: { _csrf: csrfTokenIn(page.text), recoveryCode } });
  assert.ok(done.status === 200 || done.status === 303, `the recovery code is accepted (${done.status})`);
}

const signedIn = async (browser: Browser, url: string) => (await browser.request(url, '/dashboard')).status === 200;

interface Listed {
  readonly name: string;
  readonly current: boolean;
  readonly id?: string;
}

/** The entries of one section of the settings page ("settings-sessions" or "settings-devices"). */
function entriesIn(html: string, section: string): Listed[] {
  const body = new RegExp(`<section[^>]*aria-labelledby="${section}">([\\s\\S]*?)</section>`).exec(html)?.[1] ?? '';
  return [...body.matchAll(/<li>([\s\S]*?)<\/li>/g)].map(([, item = '']) => ({
    name: /<strong[^>]*>([^<]*)<\/strong>/.exec(item)?.[1] ?? '',
    current: item.includes('This device'),
    ...(/name="id" value="([^"]+)"/.exec(item) ? { id: /name="id" value="([^"]+)"/.exec(item)![1]! } : {}),
  }));
}

async function settingsOf(browser: Browser, url: string) {
  const page = await browser.request(url, '/2fa/settings');
  assert.equal(page.status, 200, 'the settings page');
  return { html: page.text, token: csrfTokenIn(page.text), sessions: entriesIn(page.text, 'settings-sessions'), devices: entriesIn(page.text, 'settings-devices') };
}

describe('"Where you\'re signed in" across two instances on one Redis', function () {
  this.timeout(60_000);

  let redisServer: RedisServer;
  let redis: RedisClientType<any, any, any, any, any>;
  let a: PortalInstance;
  let b: PortalInstance;

  before(async () => {
    redisServer = await startRedis();
    redis = createClient({ url: redisServer.url });
    redis.on('error', () => {});
    await redis.connect();
    const shared = { redisUrl: redisServer.url, encryptionKey: 'd'.repeat(64), sessionSecret: 'sessions-list-test-session-secret' };
    [a, b] = await Promise.all([startPortalInstance(shared), startPortalInstance(shared)]);
  });

  // Each test enrols its person afresh.
  beforeEach(async () => {
    await redis.flushAll();
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const [name, instance] of [['A', a], ['B', b]] as const) {
      const logged = instance?.stderr().trim();
      if (logged) console.error(`instance ${name} logged:\n${logged.slice(-2_000)}`);
    }
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.close().catch(() => {});
    await redisServer?.stop();
    agent.destroy();
  });

  /** One person signed in from three browsers: Firefox on A, Safari on B (remembered), Edge on B. */
  async function threeBrowsers(username: string) {
    const firefox = new Browser(FIREFOX);
    const { secret, recoveryCodes } = await enrol(firefox, a.url, username);
    const safari = new Browser(SAFARI);
    await signInWithCode(safari, b.url, username, secret);
    const edge = new Browser(EDGE);
    await signInWithRecoveryCode(edge, b.url, username, recoveryCodes[0]!);
    return { firefox, safari, edge };
  }

  it('lists the sessions of both instances by browser and OS, "This device" once, and the remembered device', async () => {
    const { firefox, safari } = await threeBrowsers('acme.ops');
    const seenFromA = await settingsOf(firefox, a.url);
    assert.deepEqual(seenFromA.sessions.map((s) => s.name).sort(), ['Firefox 128 on Linux', 'Microsoft Edge 126 on Windows', 'Safari 17 on macOS']);
    assert.deepEqual(seenFromA.sessions.filter((s) => s.current).map((s) => s.name), ['Firefox 128 on Linux']);
    assert.equal(seenFromA.sessions.filter((s) => s.id).length, 2, 'an end button for each other session, none for this one');
    assert.deepEqual(seenFromA.devices.map((d) => d.name), ['Safari 17 on macOS']);
    assert.match(seenFromA.html, /Signed in [^<]*UTC/);
    assert.match(seenFromA.html, /Last seen [^<]*UTC/);
    // The session ids stay on the server: none of them is in the page.
    const sids = (await redis.keys('portal-sess:*')).map(String).map((key) => key.slice('portal-sess:'.length));
    assert.equal(sids.length, 3);
    for (const sid of sids) assert.ok(!seenFromA.html.includes(sid), 'no session id in the page');

    const seenFromB = await settingsOf(safari, b.url);
    assert.deepEqual(seenFromB.sessions.filter((s) => s.current).map((s) => s.name), ['Safari 17 on macOS']);
    assert.deepEqual(seenFromB.devices.filter((d) => d.current).map((d) => d.name), ['Safari 17 on macOS'], 'its own remembered device');
  });

  it('ending one session on instance A signs that browser out on instance B', async () => {
    const { firefox, safari, edge } = await threeBrowsers('globex.ops');
    const page = await settingsOf(firefox, a.url);
    const target = page.sessions.find((s) => s.name.startsWith('Safari'))!;
    const ended = await firefox.request(a.url, '/2fa/settings/sessions/end', { form: { _csrf: page.token, id: target.id! } });
    assert.equal(ended.status, 303);
    assert.equal(await signedIn(safari, b.url), false, 'Safari is signed out on B');
    assert.ok(await signedIn(edge, b.url), 'Edge stays signed in');
    assert.ok(await signedIn(firefox, a.url), 'this browser stays signed in');
    const afterwards = await settingsOf(firefox, a.url);
    assert.match(afterwards.html, /That session is signed out/);
    assert.deepEqual(afterwards.sessions.map((s) => s.name).sort(), ['Firefox 128 on Linux', 'Microsoft Edge 126 on Windows']);
    assert.ok(a.events.some((e) => e.type === 'session_ended' && e.userId !== undefined));
  });

  it('"Sign out everywhere else" keeps only the current session', async () => {
    const { firefox, safari, edge } = await threeBrowsers('northwind.ops');
    const page = await settingsOf(edge, b.url);
    const ended = await edge.request(b.url, '/2fa/settings/sessions/end-others', { form: { _csrf: page.token } });
    assert.equal(ended.status, 303);
    assert.equal(await signedIn(firefox, a.url), false);
    assert.equal(await signedIn(safari, a.url), false);
    assert.ok(await signedIn(edge, a.url), 'this browser stays signed in, on either instance');
    const afterwards = await settingsOf(edge, a.url);
    assert.deepEqual(afterwards.sessions.map((s) => ({ name: s.name, current: s.current })), [{ name: 'Microsoft Edge 126 on Windows', current: true }]);
  });

  it('forgets a remembered device: its next sign-in asks for a code again', async () => {
    const { firefox, safari } = await threeBrowsers('southpaw.ops');
    /** Where the password step of a new Safari session carrying the remembered-device cookie leads. */
    const passwordStep = async () => {
      const again = new Browser(SAFARI);
      again.cookies.set('sf_device', safari.cookies.get('sf_device')!);
      return (await again.request(b.url, '/login', { form: await loginForm(again, b.url, { username: 'southpaw.ops', password: PASSWORD }) })).location;
    };
    assert.notEqual(await passwordStep(), '/2fa/verify', 'remembered: straight in');
    const page = await settingsOf(firefox, a.url);
    const device = page.devices[0]!;
    assert.equal((await firefox.request(a.url, '/2fa/settings/devices/forget', { form: { _csrf: page.token, id: device.id! } })).status, 303);
    const afterwards = await settingsOf(firefox, b.url);
    assert.deepEqual(afterwards.devices, []);
    assert.match(afterwards.html, /That device is forgotten/);
    assert.equal(await passwordStep(), '/2fa/verify', 'forgotten: the code is asked again');
  });

  it('answers 404 to a made-up or another person\'s id, and changes nothing', async () => {
    const mine = await threeBrowsers('acme.ops');
    const theirs = await threeBrowsers('globex.ops');
    const foreign = await settingsOf(theirs.firefox, a.url);
    const page = await settingsOf(mine.firefox, a.url);
    const keysBefore = (await redis.keys('*')).map(String);
    for (const id of ['made-up', foreign.sessions.find((s) => s.id)!.id!, '']) {
      const res = await mine.firefox.request(a.url, '/2fa/settings/sessions/end', { form: { _csrf: page.token, id } });
      assert.equal(res.status, 404, `session id ${JSON.stringify(id)}`);
    }
    for (const id of ['made-up', foreign.devices[0]!.id!]) {
      const res = await mine.firefox.request(a.url, '/2fa/settings/devices/forget', { form: { _csrf: page.token, id } });
      assert.equal(res.status, 404, `device id ${id}`);
    }
    assert.deepEqual((await redis.keys('*')).map(String).sort(), keysBefore.sort(), 'no key was added or removed');
    for (const browser of [mine.firefox, mine.safari, mine.edge, theirs.firefox, theirs.safari, theirs.edge]) {
      assert.ok(await signedIn(browser, b.url), 'every session is still signed in');
    }
  });

  it('refuses each action without its CSRF token (403) and ends nothing', async () => {
    const { firefox, safari } = await threeBrowsers('acme.ops');
    const page = await settingsOf(firefox, a.url);
    const other = page.sessions.find((s) => s.id)!;
    for (const [path, form] of [
      ['/2fa/settings/sessions/end', { id: other.id! }],
      // A field, so that the client sends a POST body at all.
      ['/2fa/settings/sessions/end-others', { confirm: '1' }],
      ['/2fa/settings/devices/forget', { id: page.devices[0]!.id! }],
    ] as const) {
      assert.equal((await firefox.request(a.url, path, { form })).status, 403, path);
    }
    assert.ok(await signedIn(safari, b.url));
    assert.equal((await settingsOf(firefox, a.url)).sessions.length, 3);
  });
});


describe('"Where you\'re signed in": last seen', () => {
  it('is written at sign-in and then at most once a minute, by the settings page', async () => {
    const portal = startPortal();
    const browser = portal.agent();
    await signIn(browser, 'acme.ops');
    await enrolTotp(browser, portal.clock);
    const lastSeen = async () => /Last seen ([^<]*UTC)/.exec((await browser.get('/2fa/settings').expect(200)).text)?.[1];
    const atSignIn = await lastSeen();
    assert.ok(atSignIn, 'shown from the sign-in on');
    portal.clock.advance(50);
    assert.equal(await lastSeen(), atSignIn, 'not rewritten within the minute');
    portal.clock.advance(20);
    const later = await lastSeen();
    assert.ok(later && later !== atSignIn, `rewritten after a minute (${later})`);
  });
});
