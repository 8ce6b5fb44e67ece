import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testNodeFlags } from './node-flags.js';
import { freePort } from './redis.js';

export interface PortalInstance {
  readonly url: string;
  /** Audit events this instance emitted so far (`{ type, userId, … }`). */
  readonly events: ReadonlyArray<{ readonly type: string; readonly userId?: string }>;
  /** What the instance wrote on stderr (its logged errors), for a failing test's report. */
  stderr(): string;
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL('./portal-process.ts', import.meta.url));

/** Starts the example portal in a child process on a free loopback port, sessions and 2FA state in Redis. */
export async function startPortalInstance(env: {
  redisUrl: string;
  encryptionKey: string;
  sessionSecret: string;
  policyCacheSeconds?: number;
}): Promise<PortalInstance> {
  const port = await freePort();
  const child = spawn(process.execPath, [...testNodeFlags, script], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      REDIS_URL: env.redisUrl,
      ENCRYPTION_KEY: env.encryptionKey,
      SESSION_SECRET: env.sessionSecret,
      ...(env.policyCacheSeconds === undefined ? {} : { POLICY_CACHE_SECONDS: String(env.policyCacheSeconds) }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);

  const events: { type: string; userId?: string }[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`portal instance did not start in 30 s: ${stderr}`)), 30_000);
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (line.startsWith('event ')) {
          events.push(JSON.parse(line.slice(6)) as { type: string; userId?: string });
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`portal instance exited with code ${code}: ${stderr}`));
    });
  });
  child.removeAllListeners('exit');

  return {
    url: `http://127.0.0.1:${port}`,
    events,
    stderr: () => stderr,
    async stop() {
      process.removeListener('exit', kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
}
