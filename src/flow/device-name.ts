import Bowser from 'bowser';

/** What a list of sessions shows of a browser: its name and OS, never the raw header. */
export interface DeviceName {
  readonly browser?: string;
  readonly os?: string;
}

// A User-Agent is the client's to write: bounded, so a crafted header cannot bloat the store.
const MAX_PART = 40;
const MAX_HEADER = 512;

const part = (value: string | undefined) => (value ? value.slice(0, MAX_PART) : undefined);

/** Browser (with its major version) and OS of a User-Agent header, via bowser. */
export function deviceNameOf(userAgent: string | undefined): DeviceName {
  if (!userAgent) return {};
  const parsed = Bowser.parse(userAgent.slice(0, MAX_HEADER));
  const major = parsed.browser.version?.split('.')[0];
  const browser = part(parsed.browser.name && (major ? `${parsed.browser.name} ${major}` : parsed.browser.name));
  const os = part(parsed.os.name);
  return { ...(browser ? { browser } : {}), ...(os ? { os } : {}) };
}
