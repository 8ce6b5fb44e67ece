import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/redis.js';
import type { PasswordCheck } from './app.js';

/** The apps of one bench server process (see server.ts). */
export interface BenchServer {
  /** One base URL per app, in the order asked for. */
  readonly urls: readonly string[];
  /** CPU seconds (user + system, all threads) the process has used so far. */
  cpuSeconds(): Promise<number>;
  /** Sets the password check of later logins, in every app. */
  usePasswordCheck(check: PasswordCheck): Promise<void>;
  /** The last text-message code any app sent to `phone`. */
  lastCode(phone: string): Promise<string>;
  stop(): Promise<void>;
}

const serverScript = fileURLToPath(new URL('./server.ts', import.meta.url));

/** Starts the apps in one child process and waits until they all listen. */
export async function startBenchServer(options: {
  apps: readonly ('bundle' | 'before' | 'baseline' | 'floor')[];
  redisUrl: string;
  /** One Redis URL per app instead (relays that count each app's round trips). */
  redisUrls?: readonly string[];
  /** The entry module of the "before" package (bench/before.ts), when an app is `before`. */
  beforeEntry?: string;
  encryptionKey: string;
  /** Pin the process to this CPU (Linux `taskset`), or run it wherever the OS puts it. */
  cpu?: number | undefined;
}): Promise<BenchServer> {
  const ports: number[] = [];
  for (const _ of options.apps) ports.push(await freePort());
  // BENCH_NODE_ARGS: more Node flags for the apps' process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`.
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const command = [process.execPath, ...nodeArgs, '--import', 'tsx', serverScript];
  const pinned = options.cpu === undefined ? command : ['taskset', '-c', String(options.cpu), ...command];
  const child: ChildProcess = spawn(pinned[0]!, pinned.slice(1), {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      APPS: options.apps.join(','),
      PORTS: ports.join(','),
      REDIS_URL: options.redisUrl,
      ...(options.redisUrls ? { REDIS_URLS: options.redisUrls.join(',') } : {}),
      ...(options.beforeEntry ? { BEFORE_ENTRY: options.beforeEntry } : {}),
      ENCRYPTION_KEY: options.encryptionKey,
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench server did not start in 30 s')), 30_000);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench server exited with code ${code}: ${out}`));
    });
  });
  child.removeAllListeners('exit');

  /** One question over IPC, one answer (asked one at a time). */
  const ask = <T>(question: string) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench server: no answer to ${question}`)), 10_000);
      child.once('message', (answer: T) => {
        clearTimeout(timer);
        resolve(answer);
      });
      child.send(question);
    });

  return {
    urls: ports.map((port) => `http://127.0.0.1:${port}`),
    async cpuSeconds() {
      const { cpu } = await ask<{ cpu: NodeJS.CpuUsage }>('cpu');
      return (cpu.user + cpu.system) / 1e6;
    },
    async usePasswordCheck(check) {
      await ask(check);
    },
    async lastCode(phone) {
      const { code } = await ask<{ code: string | null }>(`code ${phone}`);
      if (!code) throw new Error(`bench server: no text-message code was sent to ${phone}`);
      return code;
    },
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
