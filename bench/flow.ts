import { performance } from 'node:perf_hooks';
import { BrowserClient, csrfTokenIn, keepAliveAgent } from '../test/helpers/http-client.js';
import { BENCH_PASSWORD } from './app.js';
import { currentCode, type EnrolledUser } from './users.js';

export interface FlowResult {
  readonly signIns: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** HTTP requests one sign-in took, redirects followed as a browser does. */
  readonly requestsPerSignIn: number;
  readonly p99Ms: number;
}

/**
 * Sign-ins by `concurrency` browser-like clients for about `seconds`, each a fresh cookie jar
 * and a person not used before in this run: password (POST /login, redirects followed to the
 * code page), then, with the second factor, the current TOTP code (POST /2fa/verify,
 * redirects followed), ending on the dashboard. Distinct people keep TOTP's replay rule (a
 * time step is accepted once per person) from refusing a code. Any other ending fails.
 */
export async function signIns(
  baseUrl: string,
  users: readonly EnrolledUser[],
  options: { withSecondFactor: boolean; concurrency: number; seconds: number },
): Promise<FlowResult> {
  const agent = keepAliveAgent(options.concurrency);
  let next = 0;
  let requests = 0;
  const durations: number[] = [];
  const started = performance.now();
  const deadline = started + options.seconds * 1000;

  const worker = async () => {
    while (performance.now() < deadline) {
      const user = users[next++];
      if (!user) throw new Error(`the pool of ${users.length} bench users ran out: enrol more`);
      const client = new BrowserClient(agent);
      const t0 = performance.now();
      let landed = await client.follow(baseUrl, '/login', { form: { username: user.id, password: BENCH_PASSWORD } });
      requests += landed.requests;
      if (options.withSecondFactor) {
        if (landed.status !== 200 || !/name="code"/.test(landed.text)) throw new Error(`sign-in of ${user.id}: no code page (${landed.status})`);
        landed = await client.follow(baseUrl, '/2fa/verify', { form: { _csrf: csrfTokenIn(landed.text), code: currentCode(user) } });
        requests += landed.requests;
      }
      if (landed.status !== 200 || !/<h1>Dashboard<\/h1>/.test(landed.text)) {
        throw new Error(`sign-in of ${user.id} ended on ${landed.status}: ${landed.text.slice(0, 200)}`);
      }
      durations.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  durations.sort((a, b) => a - b);
  return {
    signIns: durations.length,
    seconds,
    perSecond: durations.length / seconds,
    requestsPerSignIn: requests / durations.length,
    p99Ms: durations[Math.min(durations.length - 1, Math.floor(durations.length * 0.99))] ?? 0,
  };
}
