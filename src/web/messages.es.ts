import type { MessageKey } from './messages.js';

/** Spanish. Keys missing here fall back to English (a test lists any that are missing). */
export const es: Readonly<Partial<Record<MessageKey, string>>> = {};
