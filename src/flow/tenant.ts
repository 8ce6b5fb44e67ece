/**
 * Where a person sits in the host's tree of firms, as a path of segments from the root.
 * `[]` is the root (platform staff), `['northwind']` a partner firm, `['northwind', 'acme']`
 * a client company of that partner. Any depth works: the rules only compare prefixes.
 */
export type Tenant = readonly string[];

/**
 * Reads a tenant given by the host: `'northwind/acme'` or `['northwind', 'acme']`.
 * `undefined`, `null`, `''` and `[]` are the root. Throws a `TypeError` on an empty segment
 * (`'northwind//acme'`, `'/northwind'`), because a stray slash must not move a person to
 * another place in the tree.
 */
export function parseTenant(value: string | readonly string[] | undefined | null): Tenant {
  if (value === undefined || value === null || value === '') return Object.freeze([]);
  const segments: readonly unknown[] = typeof value === 'string' ? value.split('/') : value;
  if (!Array.isArray(segments)) {
    throw new TypeError(`tenant must be a path like "partner/client" or an array of segments, got ${describeValue(value)}`);
  }
  segments.forEach((segment, index) => {
    if (typeof segment !== 'string' || segment.trim() === '') {
      throw new TypeError(`tenant ${describeValue(value)} has an empty or invalid segment at position ${index}`);
    }
    // In the array form a "/" would make ['a/b'] and ['a', 'b'] two different tenants that
    // print the same; refusing it keeps both forms equivalent.
    if (typeof value !== 'string' && segment.includes('/')) {
      throw new TypeError(`tenant segment ${JSON.stringify(segment)} must not contain "/"`);
    }
  });
  return Object.freeze([...(segments as string[])]);
}

/** A value as an error message names it, never in full when it is an object. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array (${JSON.stringify(value)})`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) return 'an object';
  return `${typeof value} ${String(value)}`;
}
