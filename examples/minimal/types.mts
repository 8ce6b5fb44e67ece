// In TypeScript, describe your user once: req.user and the options' callbacks then know it.
import { messageBirdSender, secondFactor } from 'passport-second-factor';

declare global {
  namespace Express {
    interface User { id: string; email: string }
  }
}

// Under --strict, process.env values are string | undefined: check each one once, at start-up.
function fromEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set the environment variable ${name}`);
  return value;
}

export const twoFactor = secondFactor({
  issuer: 'Acme Portal',
  encryptionKey: fromEnv('TWO_FACTOR_KEY'),
  sms: messageBirdSender({ accessKey: fromEnv('MESSAGEBIRD_ACCESS_KEY'), originator: 'AcmePortal' }),
  accountName: (user) => user.email, // shown in authenticator apps; userId defaults to String(user.id)
});
