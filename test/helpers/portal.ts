import { generateSync } from 'otplib';
import supertest from 'supertest';
import type { RedisClientType } from 'redis';
import { createPortal, type Portal } from '../../examples/portal/app.js';
import type { SecondFactorOptions, TwoFactorEvent } from 'passport-second-factor';

/** A clock the test moves by hand; TOTP codes are computed from the same clock. */
export class TestClock {
  t = Date.UTC(2026, 0, 5, 9, 0, 0);
  readonly now = () => this.t;
  advance(seconds: number) {
    this.t += seconds * 1000;
  }
}

export interface TestPortal extends Portal {
  readonly clock: TestClock;
  readonly events: TwoFactorEvent[];
  readonly logs: string[];
  /** A new browser-like client with its own cookie jar. */
  agent(): supertest.Agent;
}

export function startPortal(options: { redis?: RedisClientType<any, any, any, any, any>; secondFactor?: Partial<SecondFactorOptions> } = {}): TestPortal {
  const clock = new TestClock();
  const events: TwoFactorEvent[] = [];
  const logs: string[] = [];
  const portal = createPortal({
    ...(options.redis ? { redis: options.redis } : {}),
    secondFactor: {
      now: clock.now,
      encryptionKey: 'k'.repeat(64).replace(/k/g, 'a'),
      onEvent: (event) => {
        events.push(event);
      },
      logger: {
        info: (m) => logs.push(`info ${m}`),
        warn: (m) => logs.push(`warn ${m}`),
        error: (m) => logs.push(`error ${m}`),
      },
      ...options.secondFactor,
    },
  });
  return { ...portal, clock, events, logs, agent: () => supertest.agent(portal.app) };
}

export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html) ?? /<meta name="csrf-token" content="([^"]+)">/.exec(html);
  if (!match) throw new Error(`no CSRF token in page:\n${html.slice(0, 500)}`);
  return match[1]!;
}

export function totpKeyFrom(html: string): string {
  const match = /id="totp-key">([A-Z2-7 ]+)</.exec(html);
  if (!match) throw new Error('no TOTP key on the page');
  return match[1]!.replace(/ /g, '');
}

export function codeAt(secret: string, ms: number): string {
  return generateSync({ secret, epoch: Math.floor(ms / 1000) });
}

export function sessionCookie(response: { headers: Record<string, unknown> }): string | undefined {
  const cookies = response.headers['set-cookie'] as string[] | undefined;
  const line = cookies?.find((c) => c.startsWith('portal.sid='));
  return line?.split(';')[0];
}

/**
 * The token of the portal's own forms, as its login page hands it out (showing that page starts
 * a session to hold it; in a signed-in session it is that session's token).
 */
export async function portalToken(agent: supertest.Agent): Promise<string> {
  const page = await agent.get('/login');
  if (page.status !== 200) throw new Error(`the login page answered ${page.status}`);
  return csrfFrom(page.text);
}

/** The login form posted as a browser does: the fields with the login page's token. */
export async function postLogin(agent: supertest.Agent, fields: Record<string, string>) {
  const _csrf = await portalToken(agent);
  return agent.post('/login').type('form').send({ _csrf, ...fields });
}

/** The portal's own "Sign out" button. */
export async function signOut(agent: supertest.Agent) {
  const _csrf = await portalToken(agent);
  const res = await agent.post('/logout').type('form').send({ _csrf });
  if (res.status !== 303) throw new Error(`sign-out answered ${res.status}: ${res.text.slice(0, 300)}`);
  return res;
}

/** Password step. Returns the session cookie set by it. */
export async function signIn(agent: supertest.Agent, username: string, returnTo?: string) {
  const res = await postLogin(agent, { username, password: 'demo-password', ...(returnTo ? { returnTo } : {}) });
  // Straight to the page the person needs: the code, or the method choice.
  if (res.status !== 303 || !['/2fa/verify', '/2fa/enrol'].includes(res.headers.location ?? '')) {
    throw new Error(`sign-in of ${username} answered ${res.status} ${res.headers.location}`);
  }
  return res;
}

/** The recovery codes listed on the page shown after an enrolment or a regeneration. */
export function recoveryCodesFrom(html: string): string[] {
  return [...html.matchAll(/<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code><\/li>/g)].map((m) => m[1]!);
}

/**
 * After a confirmed enrolment (`shown`: the recovery-codes page it answered), "Continue":
 * returns the codes and the answer that finishes the sign-in.
 */
export async function continueAfterCodes(agent: supertest.Agent, shown: supertest.Response): Promise<{ recoveryCodes: string[]; done: supertest.Response }> {
  if (shown.status !== 200) throw new Error(`enrolment answered ${shown.status}: ${shown.text.slice(0, 300)}`);
  const recoveryCodes = recoveryCodesFrom(shown.text);
  if (recoveryCodes.length !== 10) throw new Error(`expected 10 recovery codes after the enrolment, got ${recoveryCodes.length}`);
  const done = await agent.post('/2fa/recovery-codes/continue').type('form').send({ _csrf: csrfFrom(shown.text) });
  return { recoveryCodes, done };
}

/** From a fresh pending sign-in, enrols an authenticator app; returns the secret. */
export async function enrolTotp(agent: supertest.Agent, clock: TestClock): Promise<{ secret: string; recoveryCodes: string[]; done: supertest.Response }> {
  const choose = await agent.get('/2fa/enrol').expect(200);
  await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' }).expect(303);
  const page = await agent.get('/2fa/enrol/totp').expect(200);
  const secret = totpKeyFrom(page.text);
  const shown = await agent.post('/2fa/enrol/totp').type('form').send({ _csrf: csrfFrom(page.text), code: codeAt(secret, clock.t) });
  const { recoveryCodes, done } = await continueAfterCodes(agent, shown);
  if (done.status !== 303) throw new Error(`continuing after the recovery codes answered ${done.status}: ${done.text.slice(0, 300)}`);
  return { secret, recoveryCodes, done };
}

/** Posts a code on the verify page of a pending sign-in. */
export async function submitCode(agent: supertest.Agent, code: unknown) {
  const page = await agent.get('/2fa/verify');
  const token = csrfFrom(page.text);
  return agent.post('/2fa/verify').type('form').send({ _csrf: token, code });
}

const enrolledSecrets = new WeakMap<TestPortal, Map<string, string>>();

/** A sign-in of `username` waiting for the code (enrolled first, once per portal), and its session's token. */
export async function pendingVerify(portal: TestPortal, agent: supertest.Agent, username = 'acme.ops') {
  const known = enrolledSecrets.get(portal) ?? new Map<string, string>();
  enrolledSecrets.set(portal, known);
  if (!known.has(username)) {
    await signIn(agent, username);
    known.set(username, (await enrolTotp(agent, portal.clock)).secret);
    await signOut(agent);
  }
  await signIn(agent, username);
  return { secret: known.get(username)!, token: csrfFrom((await agent.get('/2fa/verify').expect(200)).text) };
}

/** The next code of `secret`: a new time step each time, as a code is accepted once. */
export function nextCode(portal: TestPortal, secret: string): string {
  portal.clock.advance(30);
  return codeAt(secret, portal.clock.t);
}

/** `username` signed in with both factors on `agent`: the token of their session. */
export async function signedInToken(portal: TestPortal, agent: supertest.Agent, username = 'globex.ops'): Promise<string> {
  const { secret, token } = await pendingVerify(portal, agent, username);
  await agent.post('/2fa/verify').type('form').send({ _csrf: token, code: nextCode(portal, secret) }).expect(303);
  return portalToken(agent);
}
