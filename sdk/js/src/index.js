// Write outdial policy plugins in JavaScript.
//
// A plugin is a plain object of functions handed to `retryStrategy`,
// `classifier` or `providerAdapter`, default-exported from its module.
// `outdial-js-build` makes it a WebAssembly component; `node --test`
// exercises the same module natively.

export { SECOND_MS, MINUTE_MS, HOUR_MS, DAY_MS } from "./units.js";
export { DURATION_EXPECTED, parseDurationMs, parseDurationMsExact } from "./duration.js";
export { Config } from "./config.js";
export { PluginError, ProviderError, WebhookError } from "./errors.js";
export {
  retryStrategy,
  retryAt,
  followUpAt,
  giveUp,
  RetryInput,
  outcomeGroup,
  OUTCOME_GROUPS,
  unitInterval,
  atLocal,
  outlineOf,
  fnv1a,
} from "./retry.js";
export { classifier, disposition } from "./classifier.js";
export { providerAdapter, header, httpRequest, utf8Encode, utf8Decode } from "./provider.js";
export * as log from "./log.js";
