import Bowser from 'bowser';
import { headerMemo } from '../header-memo.js';

/** What a list of sessions shows of a browser: its name and OS, never the raw header. */
export interface DeviceName {
  readonly browser?: string;
  readonly os?: string;
}

// A User-Agent is the client's to write: bounded, so a crafted header cannot bloat the store.
const MAX_PART = 40;
const MAX_HEADER = 512;

const part = (value: string | undefined) => (value ? value.slice(0, MAX_PART) : undefined);

/**
 * Parsed names of recent User-Agent headers: bowser's parse (dozens of regular expressions,
 * about 30 µs a header here) would otherwise run at every sign-in.
 */
const recent = headerMemo<DeviceName>(500, MAX_HEADER);

/** Browser (with its major version) and OS of a User-Agent header, via bowser. */
export function deviceNameOf(userAgent: string | undefined): DeviceName {
  if (!userAgent) return {};
  const header = userAgent.slice(0, MAX_HEADER);
  return recent.get(header, () => parse(header));
}

/** How many parsed headers are kept now (for the test of the bound). */
export const rememberedDeviceNames = (): number => recent.size();

function parse(header: string): DeviceName {
  const parsed = Bowser.parse(header);
  const major = parsed.browser.version?.split('.')[0];
  const browser = part(parsed.browser.name && (major ? `${parsed.browser.name} ${major}` : parsed.browser.name));
  const os = part(parsed.os.name);
  return { ...(browser ? { browser } : {}), ...(os ? { os } : {}) };
}
