// The "max" metadata: the default ("min") build cannot tell a premium-rate or toll-free
// number from a mobile one (getType() answers undefined), and that is what refuses them.
import { parsePhoneNumberWithError, type NumberType } from 'libphonenumber-js/max';

/** Why a typed phone number cannot receive sign-in codes. */
export type PhoneProblem = 'missing' | 'invalid' | 'not_us' | 'short_code' | 'premium' | 'toll_free' | 'special';

export type PhoneCheck =
  | { readonly ok: true; readonly e164: string; readonly last4: string }
  | { readonly ok: false; readonly problem: PhoneProblem };

/** Longer than anything a person types for a US number, extension and spaces included. */
const MAX_INPUT_LENGTH = 40;

/** Number types a person's own phone has in the US metadata; everything else is refused. */
const personalTypes: ReadonlySet<NumberType> = new Set<NumberType>(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

/**
 * Reads a US phone number as people type it (`(415) 555-0123`, `415-555-0123`,
 * `+1 415 555 0123`) and returns it in E.164 (`+14155550123`), or the problem with it.
 */
export function normaliseUsPhone(input: unknown): PhoneCheck {
  if (typeof input !== 'string' || input.trim() === '') return { ok: false, problem: 'missing' };
  const typed = input.trim();
  if (typed.length > MAX_INPUT_LENGTH) return { ok: false, problem: 'invalid' };
  // Short codes (5-6 digits, N11 services, *611) are not numbers libphonenumber parses.
  if (/^[*#]?\d{3,6}#?$/.test(typed.replace(/[\s().-]/g, ''))) return { ok: false, problem: 'short_code' };
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(typed, { defaultCountry: 'US' });
  } catch {
    return { ok: false, problem: 'invalid' };
  }
  if (parsed.countryCallingCode !== '1') return { ok: false, problem: 'not_us' };
  // Canada and the Caribbean share +1: only the country decides.
  if (parsed.country !== undefined && parsed.country !== 'US') return { ok: false, problem: 'not_us' };
  if (parsed.ext !== undefined || !parsed.isValid() || parsed.country !== 'US') return { ok: false, problem: 'invalid' };
  const type = parsed.getType();
  if (type === 'PREMIUM_RATE' || type === 'SHARED_COST') return { ok: false, problem: 'premium' };
  if (type === 'TOLL_FREE') return { ok: false, problem: 'toll_free' };
  if (type === undefined || !personalTypes.has(type)) return { ok: false, problem: 'special' };
  const e164 = parsed.number;
  return { ok: true, e164, last4: e164.slice(-4) };
}

/** The masked form shown on the pages: `xxx-xxx-9443`. */
export function maskPhone(last4: string): string {
  return `xxx-xxx-${/^\d{4}$/.test(last4) ? last4 : 'xxxx'}`;
}
