/** Certificate tooling: make a CA and leaves, write and load them, read a peer's identity. */
export { DEFAULT_RSA_BITS, MIN_RSA_BITS, MAX_RSA_BITS, generateRsaKeyPair, usesNativeKeyGeneration, privateKeyToPem } from './keys';
export { ROLES, ROLE_USAGE, isRole, type Role } from './roles';
export { DEFAULT_SANS, parseSans, type San } from './san';
export {
  DEFAULT_CA_DAYS,
  DEFAULT_LEAF_DAYS,
  MAX_DAYS,
  CLOCK_SKEW_MS,
  createCa,
  issueLeaf,
  newCa,
  newLeaf,
  type CertificateAuthority,
  type CaOptions,
  type LeafOptions,
  type PemPair,
  type Validity,
} from './issue';
export { caPaths, leafPaths, readCa, KEY_FILE_MODE, type PemPaths } from './files';
export { initPki, issueInto, type InitOptions, type InitResult, type IssueIntoOptions, type WrittenLeaf } from './bundle';
export { loadTlsMaterial, type TlsMaterial, type TlsMaterialPaths, type LoadOptions } from './load';
export { checkMediatorIdentity, identityOf, type Identity } from './identity';
export { makeTestPki, makeForeignPki, makeExpiredLeaf, makeNotYetValidLeaf, makeLeafWithValidity, type TestPki, type TestPkiOptions } from './test-pki';
