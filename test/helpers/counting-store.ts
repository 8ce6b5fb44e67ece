import type { TwoFactorStore } from 'passport-second-factor';

/**
 * Wraps a store and counts the calls made through it. Setting `control.failGets` makes its
 * `get` reject as an unreachable Redis would (the rest keeps working).
 */
export function countingStore(inner: TwoFactorStore): { store: TwoFactorStore; calls: string[]; control: { failGets: boolean } } {
  const calls: string[] = [];
  const control = { failGets: false };
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        if (control.failGets && property === 'get') return Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379'));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls, control };
}
