/** lig's config files: the mediator's and the probe's, and the validator they are built with. */
export * from './mediator';
export * from './probe';
export type { Target, TargetKind } from './targets';
export { MIN_IPV4_TARGET_PREFIX, MIN_IPV6_TARGET_PREFIX, parseIpTarget } from './targets';
export type { Bytes, Milliseconds } from './units';
export { parseDuration, parseSize } from './units';
export type { Endpoint, LogLevel } from './values';
export { DEFAULT_LOG_LEVEL, LOG_LEVELS, NAME_PATTERN, parseHostPort } from './values';
export { MAX_CONFIG_BYTES, MAX_YAML_ALIASES } from './load';
export { ConfigError, ConfigErrors, ConfigReadError, ConfigSyntaxError } from '../errors';
