import type { TwoFactorStore } from 'passport-second-factor';

/** Wraps a store and counts the calls made through it. */
export function countingStore(inner: TwoFactorStore): { store: TwoFactorStore; calls: string[] } {
  const calls: string[] = [];
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls };
}
