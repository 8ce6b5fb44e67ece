import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { codeAt, csrfFrom, enrolTotp, signIn, signOut, startPortal } from './helpers/portal.js';

/** A portal where acme.ops is enrolled and signing in again: the verify form's token. */
async function pendingVerify() {
  const portal = startPortal();
  const agent = portal.agent();
  await signIn(agent, 'acme.ops');
  const { secret } = await enrolTotp(agent, portal.clock);
  await signOut(agent);
  await signIn(agent, 'acme.ops');
  const token = csrfFrom((await agent.get('/2fa/verify').expect(200)).text);
  portal.clock.advance(30);
  return { portal, agent, token, code: codeAt(secret, portal.clock.t) };
}

describe('a sign-in form sent again after the sign-in finished', () => {
  it('goes on to where a finished sign-in goes (303), though its token died with the old session', async () => {
    const { portal, agent, token, code } = await pendingVerify();
    const first = await agent.post('/2fa/verify').type('form').send({ _csrf: token, code }).expect(303);
    for (const path of ['/2fa/verify', '/2fa/recovery', '/2fa/skip', '/2fa/recovery-codes/continue']) {
      const again = await agent.post(path).type('form').send({ _csrf: token, code, recoveryCode: 'aaaaa-bbbbb' });
      assert.equal(again.status, 303, `${path}: ${again.status} ${again.text.slice(0, 200)}`);
      assert.equal(again.headers.location, first.headers.location);
    }
    assert.equal(portal.events.filter((e) => e.type === 'verified').length, 1, 'nothing checked or finished again');
    assert.equal(portal.events.filter((e) => e.type === 'failed').length, 0);
  });

  it('answers an API client with the JSON of a finished sign-in', async () => {
    const { agent, token, code } = await pendingVerify();
    await agent.post('/2fa/verify').set('accept', 'application/json').set('x-csrf-token', token).send({ code }).expect(200);
    const again = await agent.post('/2fa/verify').set('accept', 'application/json').set('x-csrf-token', token).send({ code }).expect(200);
    assert.deepEqual(again.body, { status: 'done', next: '/' });
  });

  it('still refuses a stale token while the sign-in is pending, and finishes nothing', async () => {
    const { portal, agent, code } = await pendingVerify();
    const stale = await agent.post('/2fa/verify').type('form').send({ _csrf: 'a-token-of-another-session', code });
    assert.equal(stale.status, 403);
    assert.equal((await agent.get('/dashboard')).headers.location, '/2fa', 'still owes the second factor');
    assert.equal(portal.events.filter((e) => e.type === 'verified').length, 0);
  });

  it('does not sign in a browser without a session: a stale form there is refused', async () => {
    const { portal, token, code } = await pendingVerify();
    const res = await portal.agent().post('/2fa/verify').type('form').send({ _csrf: token, code });
    assert.equal(res.status, 403);
  });
});
