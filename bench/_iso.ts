import { createClient } from 'redis';
import { startRedis } from '../test/helpers/redis.js';
import { startBenchServer } from './servers.js';
import { enrolTemplateUser, enrolUsers } from './users.js';
import { load, verifiedSessions } from './verified.js';
const key = 'b'.repeat(64);
const rs = await startRedis();
const redis = createClient({ url: rs.url }); await redis.connect();
const kinds = (process.argv[2] ?? 'bundle,baseline').split(',') as ('bundle' | 'baseline')[];
const servers = await Promise.all(kinds.map((variant) => startBenchServer({ variant, passwordCheck: 'plain', redisUrl: rs.url, encryptionKey: key })));
const t = await enrolTemplateUser(servers[kinds.indexOf('bundle')]?.url ?? servers[0]!.url, redis, 't0').catch(() => undefined);
const cookies: string[][] = [];
let n = 0;
for (const [i, s] of servers.entries()) {
  const users = kinds[i] === 'bundle' ? await enrolUsers(redis, key, t!, Array.from({ length: 32 }, () => `x${n++}`), false) : Array.from({ length: 32 }, () => ({ id: `y${n++}`, secret: '' }));
  cookies.push(await verifiedSessions(s.url, users, kinds[i] === 'bundle'));
}
const sess = await redis.keys('bench-sess:*');
for (const k of sess.slice(0, 3)) console.log(k, await redis.get(k));
for (const [i, s] of servers.entries()) await load(s.url, cookies[i]!, { seconds: 3 });
const per: number[][] = servers.map(() => []);
for (let round = 0; round < 6; round++) {
  for (const [i, s] of (round % 2 ? [...servers.entries()].reverse() : [...servers.entries()])) {
    const c0 = await s.cpuSeconds(); const r = await load(s.url, cookies[i]!, { amount: 20000 }); const c1 = await s.cpuSeconds();
    per[i]!.push(((c1 - c0) / r.requests) * 1e6);
  }
}
for (const [i] of servers.entries()) console.log(kinds[i], per[i]!.map((x) => x.toFixed(0)).join(' '));
for (const s of servers) await s.stop();
await redis.close(); await rs.stop();
