/** The ETSI TS 102 232 codec: schemas (-1, -2, -3, -5), record builders, stream decoding. Pure. */
export * from './common';
export * from './ps-pdu';
export * from './ip-access';
export * from './email';
export * from './ip-multimedia';
export * from './build';
export * from './fast-ipcc';
export * from './stream';
export * from './json';
