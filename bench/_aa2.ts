import { createClient } from 'redis';
import { startRedis } from '../test/helpers/redis.js';
import { startBenchServer } from './servers.js';
import { enrolTemplateUser, enrolUsers } from './users.js';
import { load, verifiedSessions } from './verified.js';
const key = 'b'.repeat(64);
const rs = await startRedis();
const redis = createClient({ url: rs.url }); await redis.connect();
import { execFileSync } from 'node:child_process';
if (process.env.PIN) {
  const pid = /process_id:(\d+)/.exec(String(await redis.info('server')))![1]!;
  execFileSync('taskset', ['-pc', '1', pid]); execFileSync('taskset', ['-pc', '1', String(process.pid)]);
}
const kinds = (process.argv[2] ?? 'bundle,baseline').split(',') as ('bundle' | 'baseline')[];
const exp = process.env.EXP; delete process.env.EXP;
const servers: Awaited<ReturnType<typeof startBenchServer>>[] = [];
for (const [i, variant] of kinds.entries()) { if (i === 1 && exp) process.env.EXP = exp; servers.push(await startBenchServer({ variant, passwordCheck: 'plain', redisUrl: rs.url, encryptionKey: key, cpu: process.env.PIN ? 0 : undefined })); }
const bi = kinds.indexOf('bundle');
const t = bi >= 0 ? await enrolTemplateUser(servers[bi]!.url, redis, 't0') : undefined;
let n = 0;
const cookies: string[][] = [];
for (const [i, s] of servers.entries()) {
  const users = kinds[i] === 'bundle' ? await enrolUsers(redis, key, t!, Array.from({ length: 32 }, () => `x${n++}`), false) : Array.from({ length: 32 }, () => ({ id: `y${n++}`, secret: '' }));
  cookies.push(await verifiedSessions(s.url, users, kinds[i] === 'bundle'));
}
const both = () => Promise.all(servers.map(async (s, i) => { const c0 = await s.cpuSeconds(); const r = await load(s.url, cookies[i]!, { seconds: 4 }); const c1 = await s.cpuSeconds(); return { rps: r.perSecond, cpu: (c1 - c0) / r.requests * 1e6 }; }));
await both();
const ratios: number[] = [];
for (let round = 0; round < 8; round++) {
  const [x, y] = await both();
  ratios.push(y!.cpu / x!.cpu);
  console.log(`${kinds.join('/')} cpu µs ${x!.cpu.toFixed(0)} / ${y!.cpu.toFixed(0)} ratio(per-CPU first/second) ${(y!.cpu / x!.cpu).toFixed(3)} rps ${x!.rps.toFixed(0)}/${y!.rps.toFixed(0)}`);
}
console.log('median', ratios.sort()[3]);
for (const s of servers) await s.stop();
await redis.close(); await rs.stop();
