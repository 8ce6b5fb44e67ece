import { spawn } from 'node:child_process';

/** A `node FILE` child process that said it is ready. */
export interface RunningNodeApp<T> {
  /** What `ready` read off the app's stdout. */
  readonly ready: T;
  stderr(): string;
  exitCode(): number | null;
  stop(): Promise<void>;
}

/**
 * Runs `node FILE` in `dir` and resolves once `ready(stdout so far)` returns a value (e.g. the
 * URL or JSON line the app prints when it listens). Rejects with the app's output when it
 * exits first or is not ready in 20 s.
 */
export function startNodeApp<T>(dir: string, file: string, env: NodeJS.ProcessEnv, ready: (stdout: string) => T | undefined): Promise<RunningNodeApp<T>> {
  const child = spawn(process.execPath, [file], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${file} did not start in 20 s:\n${stdout}${stderr}`));
    }, 20_000);
    const exited = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code}:\n${stdout}${stderr}`));
    };
    child.once('exit', exited);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const value = ready(stdout);
      if (value === undefined) return;
      clearTimeout(timer);
      child.off('exit', exited);
      resolve({ ready: value, stderr: () => stderr, exitCode: () => child.exitCode, stop });
    });
  });
}
