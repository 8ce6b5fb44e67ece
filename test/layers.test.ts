import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Every relative import of every file under src/, as folder-of-importer -> folder-of-imported. */
function imports(): Array<{ from: string; to: string; file: string }> {
  const found: Array<{ from: string; to: string; file: string }> = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith('.ts')) {
        for (const [, spec] of readFileSync(path, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
          found.push({ file: relative(src, path), from: relative(src, dirname(path)), to: relative(src, resolve(dirname(path), spec!)) });
        }
      }
    }
  };
  walk(src);
  return found;
}

const top = (path: string) => path.split('/')[0] ?? '';

describe('layers point one way', () => {
  const all = imports();

  it('finds the imports it checks (the walk itself works)', () => {
    assert.ok(all.length > 100, `only ${all.length} imports found`);
    assert.ok(all.some(({ from, to }) => top(from) === 'web' && top(to) === 'factors'));
  });

  it('flow/ imports neither web/ nor factors/ nor admin/', () => {
    const wrong = all.filter(({ from, to }) => top(from) === 'flow' && ['web', 'factors', 'admin'].includes(top(to)));
    assert.deepEqual(wrong.map(({ file, to }) => `${file} -> ${to}`), []);
  });

  it('store/ imports nothing above it', () => {
    const wrong = all.filter(({ from, to }) => top(from) === 'store' && ['flow', 'web', 'factors', 'admin'].includes(top(to)));
    assert.deepEqual(wrong.map(({ file, to }) => `${file} -> ${to}`), []);
  });

  it('a factor imports no other factor (only the contract and shared pieces)', () => {
    const wrong = all.filter(({ from, to }) => {
      const [a, b] = [from.split('/'), to.split('/')];
      return a[0] === 'factors' && b[0] === 'factors' && a[1] && b[1] && !b[1].endsWith('.js') && a[1] !== b[1];
    });
    assert.deepEqual(wrong.map(({ file, to }) => `${file} -> ${to}`), []);
  });
});
