import autocannon from 'autocannon';
import type { RedisClientType } from 'redis';
import { BrowserClient, csrfTokenIn, keepAliveAgent } from '../test/helpers/http-client.js';
import { BENCH_PASSWORD } from './app.js';
import { currentCode, type EnrolledUser } from './users.js';

type Client = RedisClientType<any, any, any, any, any>;

/** Signs each user in (and through the second factor when the app has it); returns the session cookies. */
export async function verifiedSessions(baseUrl: string, users: readonly EnrolledUser[], withSecondFactor: boolean): Promise<string[]> {
  const agent = keepAliveAgent(8);
  const cookies: string[] = [];
  for (const user of users) {
    const client = new BrowserClient(agent);
    let landed = await client.follow(baseUrl, '/login', { form: { username: user.id, password: BENCH_PASSWORD } });
    if (withSecondFactor) {
      if (landed.status !== 200 || !/\/2fa\/verify|name="code"/.test(landed.text)) throw new Error(`sign-in of ${user.id} did not reach the code page (${landed.status})`);
      landed = await client.follow(baseUrl, '/2fa/verify', { form: { _csrf: csrfTokenIn(landed.text), code: currentCode(user) } });
    }
    if (landed.status !== 200 || !/Dashboard/.test(landed.text)) throw new Error(`sign-in of ${user.id} ended on ${landed.status}`);
    const check = await client.request(baseUrl, '/api/me', { headers: { accept: 'application/json' } });
    if (check.status !== 200) throw new Error(`verified session of ${user.id} answered ${check.status} on /api/me`);
    cookies.push(client.cookieHeader());
  }
  agent.destroy();
  return cookies;
}

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p99Ms: number;
  readonly p50Ms: number;
}

/** autocannon GET /api/me, one verified session per connection. Any non-2xx answer fails the bench. */
export async function load(baseUrl: string, cookies: readonly string[], options: { seconds?: number; amount?: number }): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: `${baseUrl}/api/me`,
    connections: cookies.length,
    pipelining: 1,
    ...(options.amount ? { amount: options.amount } : { duration: options.seconds ?? 5 }),
    headers: { accept: 'application/json' },
    setupClient: (client) => {
      client.setHeaders({ accept: 'application/json', cookie: cookies[next++ % cookies.length]! });
    },
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`load on ${baseUrl}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  const requests = result.requests.total;
  return { requests, seconds: result.duration, perSecond: requests / result.duration, p99Ms: result.latency.p99, p50Ms: result.latency.p50 };
}

/** Calls per Redis command, from INFO commandstats. */
export async function commandStats(redis: Client): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const line of String(await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) stats.set(match[1]!, Number(match[2]));
  }
  return stats;
}

/** The bench's own commands (INFO, SCAN, MEMORY …), not the app's. */
export function isBenchCommand(command: string): boolean {
  return /^(info|config|client|memory|scan|ttl|type|dbsize|ping|hello|select)\b/.test(command);
}
