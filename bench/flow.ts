import { performance } from 'node:perf_hooks';
import { BrowserClient, csrfTokenIn, keepAliveAgent } from '../test/helpers/http-client.js';
import { BENCH_PASSWORD } from './app.js';
import { currentCode, type EnrolledUser } from './users.js';

export interface FlowResult {
  /** Sign-ins that ended inside the measured window. */
  readonly signIns: number;
  /** Length of the measured window. */
  readonly seconds: number;
  readonly perSecond: number;
  /** HTTP requests one sign-in took, redirects followed as a browser does. */
  readonly requestsPerSignIn: number;
  readonly p99Ms: number;
  /** People taken from the pool (started sign-ins, in the window or not). */
  readonly usersTaken: number;
}

/**
 * Sign-ins by `concurrency` browser-like clients, each a fresh cookie jar and a person not
 * used before in this run: password (POST /login, redirects followed to the code page), then,
 * with the second factor, the current TOTP code (POST /2fa/verify, redirects followed), ending
 * on the dashboard. Distinct people keep TOTP's replay rule (a time step is accepted once per
 * person) from refusing a code. Any other ending fails the run.
 *
 * Clients run for `warmupSeconds + seconds`; only sign-ins that end inside the last `seconds`
 * count, and none starts after the window closes (or once `limit` have started). Two of these started together (one per app)
 * therefore measure the same stretch of time, whatever else the machine is doing.
 */
export async function signIns(
  baseUrl: string,
  users: readonly EnrolledUser[],
  options: { withSecondFactor: boolean; concurrency: number; warmupSeconds: number; seconds: number; limit?: number },
): Promise<FlowResult> {
  const agent = keepAliveAgent(options.concurrency);
  let next = 0;
  const started = performance.now();
  const windowStart = started + options.warmupSeconds * 1000;
  const windowEnd = windowStart + options.seconds * 1000;
  const durations: number[] = [];
  let requests = 0;

  const worker = async () => {
    while (performance.now() < windowEnd && next < (options.limit ?? Infinity)) {
      const user = users[next++];
      if (!user) throw new Error(`the pool of ${users.length} bench users ran out: enrol more`);
      const client = new BrowserClient(agent);
      const t0 = performance.now();
      let landed = await client.follow(baseUrl, '/login', { form: { username: user.id, password: BENCH_PASSWORD } });
      let used = landed.requests;
      if (options.withSecondFactor) {
        if (landed.status !== 200 || !/name="code"/.test(landed.text)) throw new Error(`sign-in of ${user.id}: no code page (${landed.status})`);
        landed = await client.follow(baseUrl, '/2fa/verify', { form: { _csrf: csrfTokenIn(landed.text), code: currentCode(user) } });
        used += landed.requests;
      }
      if (landed.status !== 200 || !/<h1>Dashboard<\/h1>/.test(landed.text)) {
        throw new Error(`sign-in of ${user.id} ended on ${landed.status}: ${landed.text.slice(0, 200)}`);
      }
      const t1 = performance.now();
      if (t1 >= windowStart && t1 < windowEnd) {
        durations.push(t1 - t0);
        requests += used;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  agent.destroy();
  durations.sort((a, b) => a - b);
  return {
    signIns: durations.length,
    seconds: options.seconds,
    perSecond: durations.length / options.seconds,
    requestsPerSignIn: durations.length === 0 ? 0 : requests / durations.length,
    p99Ms: durations[Math.min(durations.length - 1, Math.floor(durations.length * 0.99))] ?? 0,
    usersTaken: next,
  };
}
