import assert from 'node:assert/strict';
import express from 'express';
import session from 'express-session';
import { afterEach, beforeEach, describe, it } from 'mocha';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import supertest from 'supertest';
import { consoleSender, MemoryStore, secondFactor, TwoFactorError, type SecondFactor, type SecondFactorOptions } from '../src/index.js';

const key = Buffer.alloc(32, 9).toString('base64');

function capture() {
  const lines: string[] = [];
  const logger = {
    info: (m: string) => lines.push(`info ${m}`),
    warn: (m: string) => lines.push(`warn ${m}`),
    error: (m: string) => lines.push(`error ${m}`),
  };
  return { lines, logger, errors: () => lines.filter((line) => line.startsWith('error ')) };
}

function create(options: Partial<SecondFactorOptions> = {}) {
  const log = capture();
  const twoFactor = secondFactor({ issuer: 'Self Check', encryptionKey: key, logger: log.logger, ...options });
  return { twoFactor, log };
}

/** passport-local with one password for every username; the user id is the username. */
function withPassport(app: express.Express): passport.Authenticator {
  const auth = new passport.Passport();
  auth.use(new LocalStrategy((username, password, done) => done(null, password === 'pw' ? ({ id: username } as unknown as Express.User) : false)));
  auth.serializeUser((user, done) => done(null, (user as { id: string }).id));
  auth.deserializeUser((id: string, done) => done(null, { id } as unknown as Express.User));
  app.use(auth.initialize());
  app.use(auth.session());
  return auth;
}

const sessions = () => session({ secret: 'self-check-secret', resave: false, saveUninitialized: false });

/** A host app: session, passport, the login route; `mount` wires the rest. */
function host(twoFactor: SecondFactor, mount: (app: express.Express) => void, sessionMiddleware: express.RequestHandler | null = sessions()) {
  const app = express();
  if (sessionMiddleware) app.use(sessionMiddleware);
  const auth = withPassport(app);
  app.post('/login', express.urlencoded({ extended: false }), auth.authenticate('local', { failureRedirect: '/login' }), twoFactor.afterLogin);
  mount(app);
  app.get('/dashboard', (_req, res) => {
    res.send('dashboard');
  });
  app.use(twoFactor.errorHandler);
  return app;
}

async function signInPending(agent: supertest.Agent) {
  await agent.post('/login').type('form').send({ username: 'ann', password: 'pw' }).expect(303).expect('location', '/2fa/enrol');
}

/** A clear page: the status, the package's wording, and no stack trace. */
function assertPlainPage(res: supertest.Response, status: number) {
  assert.equal(res.status, status, res.text.slice(0, 300));
  assert.match(res.headers['content-type'] ?? '', /html/);
  assert.doesNotMatch(res.text, /at \w+ \(|node_modules|Error:/);
}

describe('self-checks that name the mistake', () => {
  describe('console sender in production', () => {
    const production = { issuer: 'Acme', production: true, encryptionKey: key, store: new MemoryStore(), allowMemoryStoreInProduction: true, logger: capture().logger };

    function startupError(options: SecondFactorOptions): TwoFactorError {
      try {
        secondFactor(options);
      } catch (error) {
        assert.ok(error instanceof TwoFactorError, String(error));
        return error;
      }
      assert.fail('secondFactor() started');
    }

    it('refuses the default console sender at start-up, naming messageBirdSender as the fix', () => {
      const error = startupError(production);
      assert.equal(error.code, 'invalid_option');
      assert.match(error.message, /option "sms" is required in production/);
      assert.match(error.message, /pass sms: messageBirdSender\(\{ accessKey, originator \}\), or set allowConsoleSenderInProduction: true/);
    });

    it('refuses an explicit consoleSender() in production', () => {
      const error = startupError({ ...production, sms: consoleSender() });
      assert.equal(error.code, 'invalid_option');
      assert.match(error.message, /option "sms" is a consoleSender\(\) in production .*messageBirdSender/);
    });

    it('starts with the explicit opt-in, or outside production', () => {
      assert.doesNotThrow(() => secondFactor({ ...production, allowConsoleSenderInProduction: true }));
      assert.doesNotThrow(() => secondFactor({ ...production, production: false }));
      assert.doesNotThrow(() => secondFactor({ ...production, sms: { send: async () => ({ id: 'sent' }) } }));
    });
  });

  describe('no req.session', () => {
    it('guard, router, adminRouter and afterLogin answer session_missing naming express-session', async () => {
      const { twoFactor, log } = create();
      const app = express();
      app.post('/fake-login', (req, _res, next) => {
        req.user = { id: 'ann' } as unknown as Express.User;
        next();
      }, twoFactor.afterLogin);
      app.use('/2fa', twoFactor.router);
      app.use('/admin/2fa', twoFactor.adminRouter);
      app.use(twoFactor.guard);
      app.get('/dashboard', (_req, res) => res.send('dashboard'));
      app.use(twoFactor.errorHandler);

      for (const [method, path, where] of [['get', '/dashboard', 'guard'], ['get', '/2fa/verify', 'router'], ['get', '/admin/2fa/policy', 'adminRouter'], ['post', '/fake-login', 'afterLogin']] as const) {
        log.lines.length = 0;
        const json = await supertest(app)[method](path).set('Accept', 'application/json');
        assert.equal(json.status, 500, `${path}: ${json.text}`);
        assert.deepEqual(json.body, { error: 'session_missing' });
        assertPlainPage(await supertest(app)[method](path).set('Accept', 'text/html'), 500);
        const [line, ...more] = log.errors();
        assert.equal(more.length, 1, 'one line per request');
        assert.match(line!, new RegExp(`^error second factor: session_missing on ${method.toUpperCase()} ${path}: secondFactor: ${where} found no req\\.session: mount express-session before passport`));
        assert.match(line!, /app\.use\(session\(\{ secret/);
      }
    });

    it('names express-session when Passport finds no session at the password step', async () => {
      const { twoFactor, log } = create();
      const app = host(twoFactor, (a) => {
        a.use('/2fa', twoFactor.router);
        a.use(twoFactor.guard);
      }, null);

      const res = await supertest(app).post('/login').type('form').send({ username: 'ann', password: 'pw' }).set('Accept', 'application/json');

      assert.equal(res.status, 500);
      assert.deepEqual(res.body, { error: 'session_missing' });
      assert.match(log.errors()[0]!, /session_missing on POST \/login: .*mount express-session .*\(Error: Login sessions require session support/);
    });
  });

  describe('a failing session middleware', () => {
    it('express-session without a secret: 500 session_misconfigured naming the session middleware and its message', async () => {
      const { twoFactor, log } = create();
      const app = host(twoFactor, (a) => {
        a.use('/2fa', twoFactor.router);
        a.use(twoFactor.guard);
      }, session({ resave: false, saveUninitialized: false } as session.SessionOptions));

      const res = await supertest(app).get('/dashboard').set('Accept', 'application/json');
      assert.equal(res.status, 500);
      assert.deepEqual(res.body, { error: 'session_misconfigured' });
      assertPlainPage(await supertest(app).get('/dashboard'), 500);
      const line = log.errors()[0]!;
      assert.match(line, /^error second factor: session_misconfigured on GET \/dashboard: secondFactor: the session middleware failed before the request had a session: pass session\(\{ secret: … \}\)/);
      assert.match(line, /\(Error: secret option required for sessions\)$/);
      assert.doesNotMatch(line, /store_unavailable/);
    });

    it('a session store that is down: 503 session_store_unavailable, named as the session store', async () => {
      class FlakyStore extends session.MemoryStore {
        failing = false;
        override get(sid: string, callback: (err: unknown, data?: session.SessionData | null) => void): void {
          if (this.failing) {
            callback(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }));
            return;
          }
          super.get(sid, callback);
        }
      }
      const store = new FlakyStore();
      const { twoFactor, log } = create();
      const app = host(twoFactor, (a) => {
        a.use('/2fa', twoFactor.router);
        a.use(twoFactor.guard);
      }, session({ secret: 'self-check-secret', resave: false, saveUninitialized: false, store }));
      const agent = supertest.agent(app);
      await signInPending(agent);
      store.failing = true;

      const res = await agent.get('/dashboard').set('Accept', 'application/json');

      assert.equal(res.status, 503);
      assert.deepEqual(res.body, { error: 'session_store_unavailable' });
      const line = log.errors()[0]!;
      assert.match(line, /^error second factor: session_store_unavailable on GET \/dashboard: secondFactor: the session store given to express-session failed/);
      assert.match(line, /ECONNREFUSED/);
    });
  });

  describe('mount order and basePath', () => {
    it('guard in front of the router: one mount_order error naming both fixes, not a redirect loop', async () => {
      const { twoFactor, log } = create();
      const app = host(twoFactor, (a) => {
        a.use(twoFactor.guard);
        a.use('/2fa', twoFactor.router);
      });
      const agent = supertest.agent(app);
      await signInPending(agent);

      const page = await agent.get('/2fa');
      assertPlainPage(page, 500);
      const json = await agent.get('/2fa/verify').set('Accept', 'application/json');
      assert.deepEqual(json.body, { error: 'mount_order' });
      const [line, ...more] = log.errors();
      assert.equal(more.length, 1);
      assert.match(line!, /^error second factor: mount_order on GET \/2fa: secondFactor: guard received GET \/2fa before router handled it/);
      assert.match(line!, /mount the router first, app\.use\('\/2fa', twoFactor\.router\), then app\.use\(twoFactor\.guard\); or, if the router is mounted at another path, set the basePath option/);
    });

    it('router at another path than basePath: base_path_mismatch naming the mount and the option', async () => {
      const { twoFactor, log } = create();
      const app = host(twoFactor, (a) => {
        a.use('/auth', twoFactor.router);
        a.use(twoFactor.guard);
      });
      const agent = supertest.agent(app);
      await signInPending(agent);

      // Sent to basePath, where no router is: the guard sees it unhandled.
      assert.equal((await agent.get('/2fa').set('Accept', 'application/json')).body.error, 'mount_order');
      const res = await agent.get('/auth/verify').set('Accept', 'application/json');
      assert.equal(res.status, 500);
      assert.deepEqual(res.body, { error: 'base_path_mismatch' });
      assert.match(log.errors().at(-1)!, /base_path_mismatch on GET \/auth\/verify: secondFactor: router is mounted at "\/auth" but the basePath option is "\/2fa" .*: mount it with app\.use\('\/2fa', twoFactor\.router\), or pass basePath: '\/auth'/);
    });

    it('router mounted without a path answers base_path_mismatch instead of taking over the host’s pages', async () => {
      const { twoFactor, log } = create();
      const app = host(twoFactor, (a) => {
        a.use(twoFactor.router);
        a.use(twoFactor.guard);
      });

      assertPlainPage(await supertest(app).get('/dashboard'), 500);
      assert.match(log.errors()[0]!, /router is mounted at "\/" but the basePath option is "\/2fa"/);
    });

    it('mounted as documented: pages and redirects work, and an unknown 2FA path is not mistaken for a loop', async () => {
      const { twoFactor, log } = create();
      const app = host(twoFactor, (a) => {
        a.use('/2fa', twoFactor.router);
        a.use(twoFactor.guard);
      });
      const agent = supertest.agent(app);
      await signInPending(agent);

      await agent.get('/2fa').expect(303).expect('location', '/2fa/enrol');
      await agent.get('/2fa/enrol').expect(200);
      await agent.get('/dashboard').expect(303).expect('location', '/2fa');
      await agent.get('/2fa/no-such-page').expect(303).expect('location', '/2fa');
      assert.deepEqual(log.errors(), []);
    });
  });

  describe('the factory used as middleware', () => {
    const originalError = console.error;
    let printed: string[];
    beforeEach(() => {
      printed = [];
      console.error = (...args: unknown[]) => {
        printed.push(args.map(String).join(' '));
      };
    });
    afterEach(() => {
      console.error = originalError;
    });

    it('app.use(secondFactor) throws invalid_option at start-up', () => {
      for (const use of [(app: express.Express) => app.use(secondFactor as unknown as express.RequestHandler), (app: express.Express) => app.use('/2fa', secondFactor as unknown as express.RequestHandler)]) {
        const app = express();
        assert.throws(() => use(app), (error: unknown) => {
          assert.ok(error instanceof TwoFactorError);
          assert.equal(error.code, 'invalid_option');
          assert.match(error.message, /secondFactor\(\): was used as middleware; call it first: const twoFactor = secondFactor\(\{\.\.\.\}\), then app\.use\(twoFactor\.guard\)/);
          return true;
        });
      }
    });

    it('where Express cannot tell (router.use), the first request gets a plain 500 and one log line, and next is not called', async () => {
      const app = express();
      const router = express.Router();
      router.use(secondFactor as unknown as express.RequestHandler);
      let reached = false;
      app.use(router);
      app.use((_req, res) => {
        reached = true;
        res.send('content');
      });
      app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        reached = true;
        res.status(599).send('host error handler');
      });

      const res = await supertest(app).get('/anything');

      assert.equal(res.status, 500);
      assert.match(res.headers['content-type'] ?? '', /text\/plain/);
      assert.match(res.text, /not configured correctly \(invalid_option\)/);
      assert.doesNotMatch(res.text, /at \w+ \(|node_modules/);
      assert.equal(reached, false);
      assert.equal(printed.length, 1);
      assert.match(printed[0]!, /^second factor: invalid_option: secondFactor\(\) was used as middleware; call it first/);
    });

    it('still works as a factory', () => {
      const { twoFactor } = create();
      assert.equal(typeof twoFactor.guard, 'function');
    });
  });
});
