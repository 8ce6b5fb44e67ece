import { createClient, type RedisClientType } from 'redis';
import { consoleSender, messageBirdSender, type SmsSender } from 'passport-second-factor';
import { createPortal } from './app.js';
import { consoleNotify } from './notify.js';

/**
 * Runs the example portal. Embedded defaults: in-memory sessions and 2FA state, text messages
 * printed on the console. REDIS_URL moves both into Redis; PORT picks the port;
 * MESSAGEBIRD_ACCESS_KEY with MESSAGEBIRD_ORIGINATOR sends real text messages through MessageBird.
 */
const port = Number(process.env.PORT ?? 3000);
const modeSetting = process.env.TWO_FACTOR_MODE;
if (modeSetting && !['off', 'required', 'optional'].includes(modeSetting)) {
  throw new Error(`TWO_FACTOR_MODE must be off, required or optional (got "${modeSetting}")`);
}
const mode = modeSetting as 'off' | 'required' | 'optional' | undefined;
// The policy page's saved switch wins over TWO_FACTOR_MODE unless the operator locks it.
const lockMode = process.env.TWO_FACTOR_MODE_LOCKED === '1';
if (lockMode && !mode) throw new Error('TWO_FACTOR_MODE_LOCKED=1 needs TWO_FACTOR_MODE (off, required or optional) to lock');
const { MESSAGEBIRD_ACCESS_KEY: accessKey, MESSAGEBIRD_ORIGINATOR: originator } = process.env;
if (Boolean(accessKey) !== Boolean(originator)) {
  throw new Error('set both MESSAGEBIRD_ACCESS_KEY and MESSAGEBIRD_ORIGINATOR to send through MessageBird, or neither to print codes on the console');
}
const sms: SmsSender = accessKey && originator ? messageBirdSender({ accessKey, originator }) : consoleSender();
let redis: RedisClientType<any, any, any, any, any> | undefined;
if (process.env.REDIS_URL) {
  redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true });
  redis.on('error', (error: Error) => console.error(`redis: ${error.message}`));
  await redis.connect();
}

const { app } = createPortal({
  ...(redis ? { redis } : {}),
  secondFactor: {
    sms,
    // Passkeys need a domain, not an IP address: open the portal as http://localhost:PORT.
    passkeys: { rpId: 'localhost', origins: [`http://localhost:${port}`] },
    ...(mode ? { policy: { mode, lockMode, roleModes: { 'bot-admin': 'required', 'partner-admin': 'required' }, rememberDeviceDays: 30 } } : {}),
    ...(process.env.ENCRYPTION_KEY ? { encryptionKey: process.env.ENCRYPTION_KEY } : {}),
    // The mail a real portal would send, printed (with the full "This wasn't me" link).
    notify: consoleNotify(() => `http://localhost:${port}`),
    onEvent: (event) => console.log(`[event] ${event.type} user=${event.userId}${event.method ? ` method=${event.method}` : ''}${event.actorId ? ` actor=${event.actorId}` : ''}${event.outcome ? ` outcome=${event.outcome}` : ''}${event.reason ? ` reason=${event.reason}` : ''}`),
  },
});

const server = app.listen(port, '127.0.0.1', () => {
  console.log(`Example portal on http://localhost:${port}/login (password for every demo user: demo-password)`);
  console.log(redis ? 'State: Redis' : 'State: in memory (set REDIS_URL to use Redis)');
  console.log(accessKey ? 'Text messages: MessageBird' : 'Text messages: printed here (set MESSAGEBIRD_ACCESS_KEY and MESSAGEBIRD_ORIGINATOR to send them)');
});

const stop = () => {
  server.close();
  void redis?.quit().catch(() => {});
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
