/**
 * RSA key pairs for lig's certificates, made by node-forge.
 *
 * forge hands generation to Node's native crypto.generateKeyPair when it is available (it is
 * on every Node lig supports), so a 3072-bit key takes a fraction of a second and runs on the
 * libuv thread pool rather than blocking the event loop. The pure-JavaScript fallback would
 * take many seconds; `usesNativeKeyGeneration()` says which one is in use.
 */
import forge from 'node-forge';
import { CertError } from '../errors';

/** Key size `lig certs init` uses unless told otherwise. */
export const DEFAULT_RSA_BITS = 3072;
/** Smallest key size accepted (tests use it: keys are quicker to make). */
export const MIN_RSA_BITS = 2048;
/** Largest key size accepted: beyond this, generation and every handshake become slow. */
export const MAX_RSA_BITS = 8192;

export type KeyPair = forge.pki.rsa.KeyPair;

export function checkBits(bits: number): number {
  if (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits > MAX_RSA_BITS || bits % 8 !== 0) {
    throw new CertError('LIG_ERR_CERT_OPTIONS', `key size ${bits} must be a multiple of 8 from ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits`);
  }
  return bits;
}

/** True when forge will use Node's native key generation (fast) rather than its JavaScript one. */
export function usesNativeKeyGeneration(): boolean {
  // forge.options is not in @types/node-forge.
  const options = (forge as unknown as { options?: { usePureJavaScript?: boolean } }).options;
  return !options?.usePureJavaScript;
}

/** Makes an RSA key pair (e = 65537) without blocking the event loop. */
export async function generateRsaKeyPair(bits: number = DEFAULT_RSA_BITS): Promise<KeyPair> {
  checkBits(bits);
  return new Promise((resolve, reject) => {
    forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 }, (err, keys) => {
      if (err) reject(new CertError('LIG_ERR_CERT_OPTIONS', `RSA key generation (${bits} bits) failed: ${err.message}`));
      else resolve(keys);
    });
  });
}

/** PKCS#8 PEM ("BEGIN PRIVATE KEY") of a private key: what Node's tls and gRPC read. */
export function privateKeyToPem(key: forge.pki.rsa.PrivateKey): string {
  return forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key)));
}
