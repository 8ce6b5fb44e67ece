import assert from 'node:assert/strict';
import https from 'node:https';
import { inspect } from 'node:util';
import { TwoFactorError } from '../src/errors.js';
import { consoleSender } from '../src/sms/console.js';
import { messageBirdSender, type MessageBirdSenderOptions } from '../src/sms/messagebird.js';
import { parseOptions } from '../src/options.js';
import { csrfFrom, signIn, startPortal } from './helpers/portal.js';
import {
  closedPort,
  loopbackAgent,
  startFakeMessageBird,
  type FakeMessageBird,
  type FakeReply,
} from './helpers/fake-messagebird.js';

const accessKey = 'live_Zx9SecretAccessKey0123';
const body = 'Your Acme Portal code is 482913';
const to = '+14155550123';

function jsonReply(status: number, payload: unknown): FakeReply {
  return (_request, response) => {
    response.writeHead(status, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(payload));
  };
}

/** Asserts an sms_failed rejection that leaks neither the access key nor the message body. */
async function assertSmsFailed(promise: Promise<unknown>, message?: RegExp): Promise<TwoFactorError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof TwoFactorError, `expected a TwoFactorError, got ${inspect(caught)}`);
  assert.equal(caught.code, 'sms_failed');
  assert.equal(caught.status, 502);
  if (message) assert.match(caught.message, message);
  // inspect() shows the cause chain too: what a host's logger would print.
  const everything = inspect(caught, { depth: 10, showHidden: true });
  assert.ok(!everything.includes(accessKey), `the access key leaked: ${everything}`);
  assert.ok(!everything.includes('482913'), `the code leaked: ${everything}`);
  return caught;
}

describe('messageBirdSender', () => {
  let fake: FakeMessageBird;
  let agent: https.Agent;
  const globalAgent = https.globalAgent;

  // The SDK has a fixed host and uses https.globalAgent for every request: the test (never
  // src) swaps in an agent whose connections go to the fake on loopback.
  beforeEach(async () => {
    fake = await startFakeMessageBird();
    agent = loopbackAgent(fake.port);
    https.globalAgent = agent;
  });

  afterEach(async () => {
    https.globalAgent = globalAgent;
    agent.destroy();
    await fake.close();
  });

  function sender(options: Partial<MessageBirdSenderOptions> = {}) {
    return messageBirdSender({ accessKey, originator: 'AcmePortal', ...options });
  }

  it('sends one POST /messages through the real SDK with the access key, originator, recipient and body', async () => {
    fake.reply = jsonReply(201, { id: 'f3a1c0de9b', direction: 'mt' });

    const result = await sender().send(to, body);

    assert.deepEqual(result, { id: 'f3a1c0de9b' });
    assert.equal(fake.requests.length, 1);
    const [request] = fake.requests;
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/messages');
    // The SDK's fixed host, carried to our fake by the agent.
    assert.equal(request.headers.host, 'rest.messagebird.com');
    assert.equal(request.headers.authorization, `AccessKey ${accessKey}`);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(request.body), {
      originator: 'AcmePortal',
      recipients: '14155550123',
      body,
    });
  });

  it('builds fresh parameters for each send: two sends carry one recipient each', async () => {
    const send = sender();

    const first = await send.send('+14155550123', body);
    const second = await send.send('+442071838750', body);

    assert.notEqual(first.id, second.id);
    assert.deepEqual(
      fake.requests.map((request) => JSON.parse(request.body).recipients),
      ['14155550123', '442071838750'],
    );
  });

  it('rejects with sms_failed naming the provider error when MessageBird answers 4xx with errors', async () => {
    fake.reply = jsonReply(401, {
      errors: [{ code: 2, description: 'Request not allowed', parameter: 'access_key' }],
    });

    const error = await assertSmsFailed(sender().send(to, body), /Request not allowed \(code 2\)/);

    assert.match(error.message, /HTTP 401/);
    assert.ok(error.cause instanceof Error, 'the SDK error is kept as cause');
  });

  it('cuts the access key and the body out of a provider error that echoes them', async () => {
    fake.reply = jsonReply(422, {
      errors: [{ code: 9, description: `bad key ${accessKey} for "${body}"`, parameter: 'body' }],
    });

    const error = await assertSmsFailed(sender().send(to, body));

    assert.match(error.message, /bad key \[redacted\] for "\[redacted\]"/);
  });

  it('cuts the recipient’s number out of a provider error that names it, with or without the +', async () => {
    fake.reply = jsonReply(422, {
      errors: [{ code: 21, description: `no route to ${to.slice(1)} (${to})`, parameter: 'recipients' }],
    });

    const error = await assertSmsFailed(sender().send(to, body), /no route to \[redacted\] \(\[redacted\]\)/);

    const everything = inspect(error, { depth: 10, showHidden: true });
    assert.ok(!everything.includes('4155550123'), `the number leaked: ${everything}`);
  });

  it('rejects with sms_failed when a 5xx reply has JSON without errors (the SDK calls it a success)', async () => {
    fake.reply = jsonReply(500, { message: 'internal error' });

    await assertSmsFailed(sender().send(to, body), /no message id/);
  });

  it('rejects with sms_failed when a 5xx reply is not JSON', async () => {
    fake.reply = (_request, response) => {
      response.writeHead(502, { 'Content-Type': 'text/html' });
      response.end('<html>Bad Gateway</html>');
    };

    await assertSmsFailed(sender().send(to, body), /HTTP 502/);
  });

  it('rejects with sms_failed when the connection is refused', async () => {
    agent.destroy();
    agent = loopbackAgent(await closedPort());
    https.globalAgent = agent;

    await assertSmsFailed(sender().send(to, body), /ECONNREFUSED/);
  });

  it('rejects with sms_failed within the timeout when MessageBird never answers', async () => {
    fake.reply = () => {};
    const started = Date.now();

    await assertSmsFailed(sender({ timeoutMs: 300 }).send(to, body));

    const elapsed = Date.now() - started;
    assert.equal(fake.requests.length, 1, 'the request reached the fake');
    assert.ok(elapsed >= 250 && elapsed < 2000, `failed after ${elapsed} ms`);
  });

  it('rejects with sms_failed within the timeout when MessageBird trickles its reply', async () => {
    // Each byte resets the SDK's idle timeout on the socket: only our deadline ends the send.
    fake.reply = (_request, response) => {
      response.writeHead(201, { 'Content-Type': 'application/json' });
      const trickle = setInterval(() => response.write(' '), 50);
      response.on('close', () => clearInterval(trickle));
    };
    const started = Date.now();

    await assertSmsFailed(sender({ timeoutMs: 300 }).send(to, body), /no complete reply within 300 ms/);

    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 2000, `failed after ${elapsed} ms`);
  });

  it('refuses a recipient that is not one E.164 number without calling MessageBird', async () => {
    const send = sender();

    await assertSmsFailed(send.send('+14155550123,+14155550124', body), /E\.164/);
    await assertSmsFailed(send.send('14155550123', body), /E\.164/);
    await assertSmsFailed(send.send(to, ''), /empty/);
    assert.equal(fake.requests.length, 0);
  });
});

describe('messageBirdSender options', () => {
  const valid: MessageBirdSenderOptions = { accessKey, originator: 'AcmePortal' };

  function assertTypeError(options: unknown, message: RegExp): TypeError {
    let caught: unknown;
    assert.throws(
      () => messageBirdSender(options as MessageBirdSenderOptions),
      (error: unknown) => {
        caught = error;
        return true;
      },
    );
    assert.ok(caught instanceof TypeError, `expected a TypeError, got ${inspect(caught)}`);
    assert.match(caught.message, message);
    return caught;
  }

  it('accepts an alphanumeric originator of up to 11 characters or a phone number', () => {
    for (const originator of ['AcmePortal', 'Acme2FA8901', '+14155550123', '14155550123']) {
      assert.equal(typeof messageBirdSender({ ...valid, originator }).send, 'function');
    }
  });

  it('throws a TypeError naming accessKey when it is missing or empty', () => {
    assertTypeError({ originator: 'AcmePortal' }, /`accessKey` is required/);
    assertTypeError({ ...valid, accessKey: '' }, /`accessKey` is required/);
    assertTypeError({ ...valid, accessKey: '   ' }, /`accessKey` is required/);
  });

  it('never echoes the access key when refusing it', () => {
    const error = assertTypeError({ ...valid, accessKey: 'live_Zx9 Secret' }, /`accessKey`/);
    assert.ok(!error.message.includes('Zx9'), error.message);
  });

  it('throws a TypeError naming originator when it is missing, empty or not MessageBird-valid', () => {
    assertTypeError({ accessKey }, /`originator` is required/);
    assertTypeError({ ...valid, originator: '' }, /`originator` is required/);
    assertTypeError({ ...valid, originator: 'AcmePortal2FA' }, /`originator` must be .*"AcmePortal2FA"/);
    assertTypeError({ ...valid, originator: 'Acme-Portal' }, /`originator` must be/);
    assertTypeError({ ...valid, originator: '+1415555012345678' }, /`originator` must be/);
  });

  it('throws a TypeError naming timeoutMs when it is not a positive whole number', () => {
    for (const timeoutMs of [0, -1, 1.5, Number.NaN, '300', 2 ** 31]) {
      assertTypeError({ ...valid, timeoutMs }, /`timeoutMs`/);
    }
  });

  it('throws a TypeError on a misspelled option, suggesting the right one', () => {
    assertTypeError({ ...valid, timeout: 300 }, /unknown option `timeout` \(did you mean `timeoutMs`\?\)/);
  });

  it('throws a TypeError when called without options', () => {
    assertTypeError(undefined, /options must be an object/);
  });
});

describe('consoleSender', () => {
  it('writes exactly one line with the number and the text, and returns an id', async () => {
    const lines: string[] = [];
    const send = consoleSender({ write: (line) => lines.push(line) });

    const first = await send.send(to, body);
    const second = await send.send(to, body);

    assert.deepEqual(lines, [`[sms] to ${to}: ${body}`, `[sms] to ${to}: ${body}`]);
    assert.equal(typeof first.id, 'string');
    assert.notEqual(first.id, second.id);
  });

  it('keeps a message with line breaks on one line', async () => {
    const lines: string[] = [];

    await consoleSender({ write: (line) => lines.push(line) }).send(to, 'code 123456\n[sms] to +1999: forged');

    assert.equal(lines.length, 1);
    assert.ok(!lines[0].includes('\n'));
    assert.equal(lines[0], `[sms] to ${to}: code 123456\\n[sms] to +1999: forged`);
  });

  it('writes to console.log by default', async () => {
    const original = console.log;
    const lines: unknown[][] = [];
    console.log = (...args: unknown[]) => {
      lines.push(args);
    };
    try {
      await consoleSender().send(to, body);
    } finally {
      console.log = original;
    }
    assert.deepEqual(lines, [[`[sms] to ${to}: ${body}`]]);
  });

  it('rejects with sms_failed when writing fails', async () => {
    const send = consoleSender({
      write: () => {
        throw new Error('stdout closed');
      },
    });

    await assert.rejects(send.send(to, body), (error: unknown) => {
      assert.ok(error instanceof TwoFactorError);
      assert.equal(error.code, 'sms_failed');
      return true;
    });
  });

  it('throws a TypeError naming write when it is not a function', () => {
    assert.throws(() => consoleSender({ write: 'stdout' as unknown as (line: string) => void }), {
      name: 'TypeError',
      message: /`write` must be a function/,
    });
  });
});

describe('a MessageBird failure in the log', () => {
  let fake: FakeMessageBird;
  let agent: https.Agent;
  const globalAgent = https.globalAgent;

  beforeEach(async () => {
    fake = await startFakeMessageBird();
    agent = loopbackAgent(fake.port);
    https.globalAgent = agent;
  });

  afterEach(async () => {
    https.globalAgent = globalAgent;
    agent.destroy();
    await fake.close();
  });

  /** The package's own sender (as secondFactor() uses it): the real SDK, logging through `logger`. */
  function packageSender(timeoutMs = 2000) {
    const lines: string[] = [];
    const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
    const config = parseOptions({ issuer: 'Acme', encryptionKey: Buffer.alloc(32, 3), sms: messageBirdSender({ accessKey, originator: 'AcmePortal', timeoutMs }), logger });
    return { send: () => config.sms.send(to, body), lines };
  }

  /** Exactly one line, with none of the number, the code or the key in it. */
  function onlyLine(lines: readonly string[]): string {
    assert.equal(lines.length, 1, lines.join('\n'));
    const line = lines[0]!;
    for (const secret of [accessKey, '482913', '4155550123', to]) assert.ok(!line.includes(secret), `${secret} leaked: ${line}`);
    assert.match(line, /^second factor: sms_failed: a text message was not sent: MessageBird /);
    return line;
  }

  it('logs a refusal (bad key, 401) with the status, the provider code and its text', async () => {
    fake.reply = jsonReply(401, { errors: [{ code: 2, description: 'Request not allowed (incorrect access_key)', parameter: 'access_key' }] });
    const { send, lines } = packageSender();

    await assert.rejects(send(), { code: 'sms_failed' });

    assert.match(onlyLine(lines), /MessageBird refused the message \(HTTP 401\): Request not allowed \(incorrect access_key\) \(code 2\), parameter access_key$/);
  });

  it('logs a provider error (5xx with errors) as MessageBird failing on its side', async () => {
    fake.reply = jsonReply(503, { errors: [{ code: 99, description: 'Internal error' }] });
    const { send, lines } = packageSender();

    await assert.rejects(send(), { code: 'sms_failed' });

    assert.match(onlyLine(lines), /MessageBird failed on its side \(HTTP 503\): Internal error \(code 99\)$/);
  });

  it('logs a 5xx the SDK reports as a success, and one that is not JSON', async () => {
    fake.reply = jsonReply(500, { message: `internal error for ${to}` });
    const first = packageSender();
    await assert.rejects(first.send(), { code: 'sms_failed' });
    assert.match(onlyLine(first.lines), /MessageBird failed on its side: the reply carried no message id \(HTTP status not reported by the SDK\); it said: internal error for \[redacted\]$/);

    fake.reply = (_request, response) => {
      response.writeHead(502, { 'Content-Type': 'text/html' });
      response.end('<html>Bad Gateway</html>');
    };
    const second = packageSender();
    await assert.rejects(second.send(), { code: 'sms_failed' });
    assert.match(onlyLine(second.lines), /MessageBird failed on its side \(HTTP 502\): the reply was not JSON$/);
  });

  it('logs a timeout as a timeout, and a refused connection as unreachable', async () => {
    fake.reply = () => {};
    const slow = packageSender(300);
    await assert.rejects(slow.send(), { code: 'sms_failed' });
    assert.match(onlyLine(slow.lines), /MessageBird timed out: no complete reply within 300 ms$/);

    agent.destroy();
    agent = loopbackAgent(await closedPort());
    https.globalAgent = agent;
    const down = packageSender();
    await assert.rejects(down.send(), { code: 'sms_failed' });
    assert.match(onlyLine(down.lines), /MessageBird could not be reached \(ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/);
  });

  it('tells a timeout from a refusal when the SDK reports it as "socket hang up"', async () => {
    // The SDK's idle timeout fires first when our deadline is later: simulate it with a
    // connection the fake drops after the timeout.
    fake.reply = (_request, response) => {
      setTimeout(() => response.socket?.destroy(), 350);
    };
    const { send, lines } = packageSender(300);

    await assert.rejects(send(), { code: 'sms_failed' });

    assert.match(onlyLine(lines), /MessageBird timed out/);
  });

  it('logs a failed enrolment text through the host’s logger, without the number or the code', async () => {
    fake.reply = jsonReply(401, { errors: [{ code: 2, description: 'Request not allowed (incorrect access_key)', parameter: 'access_key' }] });
    const portal = startPortal({ secondFactor: { sms: messageBirdSender({ accessKey, originator: 'AcmePortal' }) } });
    const browser = portal.agent();
    await signIn(browser, 'acme.ops');
    const choose = await browser.get('/2fa/enrol').expect(200);
    await browser.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'sms' }).expect(303);
    const form = await browser.get('/2fa/enrol/sms').expect(200);

    const page = await browser.post('/2fa/enrol/sms').type('form').send({ _csrf: csrfFrom(form.text), phone: '(415) 555-9443' });

    assert.notEqual(page.status, 303, 'the enrolment did not go on');
    assert.equal(fake.requests.length, 1);
    const code = /\b(\d{6})\b/.exec(JSON.parse(fake.requests[0]!.body).body)![1]!;
    const failures = portal.logs.filter((line) => line.includes('sms_failed'));
    assert.equal(failures.length, 1, portal.logs.join('\n'));
    assert.match(failures[0]!, /^error second factor: sms_failed: a text message was not sent: MessageBird refused the message \(HTTP 401\): Request not allowed .*\(code 2\)/);
    for (const line of portal.logs) {
      for (const secret of [code, '4155559443', '555-9443', accessKey]) assert.ok(!line.includes(secret), `${secret} leaked: ${line}`);
    }
  });
});
