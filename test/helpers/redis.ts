import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';

/** A free TCP port on loopback, found by letting the kernel pick one. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// One exit hook for every server this process started, so none outlives the test run.
const running = new Set<() => void>();
process.once('exit', () => {
  for (const kill of running) kill();
});

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  /** Starts the server again on the same port (after stop()). */
  start(): Promise<void>;
}

/**
 * Spawns a real `redis-server` on a free loopback port, with no persistence. The test run
 * fails (it never skips) when the binary is missing: `scripts/test.sh` installs it.
 */
export async function startRedis(extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sf-redis-'));
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, ...extraArgs,
    ], { stdio: 'ignore' });
    const exited = new Promise<never>((_, reject) => {
      child!.once('error', reject);
      child!.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}`)));
    });
    await Promise.race([waitUntilReady(port), exited]);
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.removeAllListeners('exit');
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };

  await start();
  running.add(() => child?.kill('SIGKILL'));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    async stop() {
      await stop();
    },
  } satisfies RedisServer;
}

/** Resolves once a redis-server answers PING on the port (10 s at most). */
export async function waitUntilReady(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      await client.quit();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
