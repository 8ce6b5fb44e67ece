import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A minimal software authenticator for the bench: answers registration options the way a
 * platform passkey does (a fresh P-256 key, ES256, attestation "none", user present and
 * verified), so that the bench can enrol people with a real credential without a browser. Its
 * output goes through the package's own checkRegistration: what is stored is what a real
 * enrolment stores. Not for tests of the ceremony itself (those use Chromium's authenticator).
 */
export function answerRegistration(options: PublicKeyCredentialCreationOptionsJSON, origin: string): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  // COSE_Key: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
  const coseKey = isoCBOR.encode(new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, isoBase64URL.toBuffer(jwk.x!)], [-3, isoBase64URL.toBuffer(jwk.y!)]]));
  const credentialId = randomBytes(32);
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(credentialId.length);
  const authData = Buffer.concat([
    createHash('sha256').update(options.rp.id!).digest(),
    Buffer.from([0x45]), // user present, user verified, attested credential data
    Buffer.alloc(4), // signature counter 0, as synced passkeys report
    Buffer.alloc(16), // AAGUID: none
    idLength,
    credentialId,
    Buffer.from(coseKey),
  ]);
  const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', new Uint8Array(authData)]]) as never);
  const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false }));
  const id = isoBase64URL.fromBuffer(new Uint8Array(credentialId));
  return JSON.stringify({
    id,
    rawId: id,
    type: 'public-key',
    response: { clientDataJSON: isoBase64URL.fromBuffer(new Uint8Array(clientDataJSON)), attestationObject: isoBase64URL.fromBuffer(attestationObject), transports: ['internal'] },
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
  });
}
