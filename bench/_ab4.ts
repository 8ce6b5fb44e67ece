import { execFileSync } from 'node:child_process';
import { createClient } from 'redis';
import { startRedis } from '../test/helpers/redis.js';
import { startBenchServer } from './servers.js';
import { enrolTemplateUser, enrolUsers } from './users.js';
import { load, verifiedSessions } from './verified.js';
const key = 'b'.repeat(64);
const rs = await startRedis();
const redis = createClient({ url: rs.url }); await redis.connect();
const pid = /process_id:(\d+)/.exec(String(await redis.info('server')))![1]!;
execFileSync('taskset', ['-a', '-pc', '1', pid]); execFileSync('taskset', ['-a', '-pc', '1', String(process.pid)]);
const kinds = ['bundle', 'baseline', 'bundle', 'baseline'] as const;
const servers = await Promise.all(kinds.map((variant) => startBenchServer({ variant, passwordCheck: 'plain', redisUrl: rs.url, encryptionKey: key, cpu: 0 })));
const t = await enrolTemplateUser(servers[0]!.url, redis, 't0');
let n = 0;
const cookies: string[][] = [];
for (const [i, s] of servers.entries()) {
  const users = kinds[i] === 'bundle' ? await enrolUsers(redis, key, t, Array.from({ length: 32 }, () => `x${n++}`), false) : Array.from({ length: 32 }, () => ({ id: `y${n++}`, secret: '' }));
  cookies.push(await verifiedSessions(s.url, users, kinds[i] === 'bundle'));
}
const batch = async (i: number, seconds: number) => { const s = servers[i]!; const c0 = await s.cpuSeconds(); const r = await load(s.url, cookies[i]!, { seconds }); const c1 = await s.cpuSeconds(); return (c1 - c0) / r.requests * 1e6; };
for (const i of [0, 1, 2, 3]) await batch(i, 2);
const cpu: number[][] = [[], [], [], []];
for (let round = 0; round < 14; round++) {
  const order = round % 2 ? [3, 2, 1, 0] : [0, 1, 2, 3];
  for (const i of order) cpu[i]!.push(await batch(i, 1));
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)]!;
console.log(kinds.map((k, i) => `${k}#${i}: median ${med(cpu[i]!).toFixed(0)} µs [${cpu[i]!.map((x) => x.toFixed(0)).join(' ')}]`).join('\n'));
for (const s of servers) await s.stop();
await redis.close(); await rs.stop();
