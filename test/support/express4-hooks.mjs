// Module resolution hook (see express-major.mjs): `express` and `express/...` -> `express4`.
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'express' || specifier.startsWith('express/')) {
    return nextResolve(`express4${specifier.slice('express'.length)}`, context);
  }
  return nextResolve(specifier, context);
}
