import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { freePort, waitUntilReady } from './redis.js';

const run = promisify(execFile);

export interface RedisCluster {
  /** The master nodes, as `{ url }` root nodes for `createCluster({ rootNodes })`. */
  readonly rootNodes: readonly { readonly url: string }[];
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

/**
 * Starts a local Redis Cluster of `masters` masters and no replicas on free loopback ports:
 * one `redis-server --cluster-enabled yes` per node, each with its own directory and
 * nodes.conf, joined with `redis-cli --cluster create`. Resolves once every node reports
 * `cluster_state:ok` with all 16384 slots assigned. Fails (never skips) when redis-server or
 * redis-cli is missing.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const children: ChildProcess[] = [];
  const root = mkdtempSync(join(tmpdir(), 'sf-cluster-'));
  const killAll = () => children.forEach((child) => child.kill('SIGKILL'));
  const stop = async () => {
    process.removeListener('exit', killAll);
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.removeAllListeners('exit');
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', killAll);

  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i += 1) {
      const port = await freePort();
      // The bus port is chosen too: the default (port + 10000) may lie past 65535.
      const busPort = await freePort();
      const dir = join(root, `node-${i}`);
      mkdirSync(dir);
      const child = spawn(
        'redis-server',
        [
          '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
          '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'),
          '--cluster-port', String(busPort), '--cluster-node-timeout', '5000',
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
      ports.push(port);
      const exited = new Promise<never>((_, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`redis-server (cluster node ${i}) exited with code ${code}`)));
      });
      exited.catch(() => {});
      await Promise.race([waitUntilReady(port), exited]);
    }

    await run('redis-cli', [
      '--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes',
    ], { timeout: 30_000 });

    await Promise.all(ports.map((port) => clusterOk(port)));
    return { rootNodes: ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })), ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits until the node sees the whole cluster as serving: state ok, every slot assigned. */
async function clusterOk(port: number): Promise<void> {
  const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
  client.on('error', () => {});
  await client.connect();
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const info = String(await client.sendCommand(['CLUSTER', 'INFO']));
      if (/cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info)) return;
      if (Date.now() > deadline) throw new Error(`cluster node on port ${port} did not reach cluster_state:ok:\n${info}`);
      await sleep(100);
    }
  } finally {
    await client.close();
  }
}
