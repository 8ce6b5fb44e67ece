/**
 * Answers that depend on one request header alone (a language negotiation, a parsed
 * User-Agent), kept for its most recent distinct values. A portal's requests come from a few
 * browser builds, so nearly every request finds its header here instead of parsing it again.
 * Bounded twice, so that headers crafted to differ cannot grow it: at most `max` values
 * (oldest out first), and a header longer than `maxLength` is answered without being kept.
 */
export function headerMemo<V>(max: number, maxLength: number) {
  const recent = new Map<string, V>();
  return {
    get(header: string | undefined, compute: () => V): V {
      const key = header ?? '';
      if (key.length > maxLength) return compute();
      let value = recent.get(key);
      if (value === undefined) {
        value = compute();
        if (recent.size >= max) recent.delete(recent.keys().next().value!);
        recent.set(key, value);
      }
      return value;
    },
    /** How many values are kept now (for the tests of the bound). */
    size: (): number => recent.size,
  };
}
