// Exponential backoff with a base delay per outcome and deterministic
// jitter seeded from the attempt id, so equal inputs give equal answers.
// The same strategy, config keys and conformance cases as the Rust
// plugins/retry-backoff.

import {
  HOUR_MS,
  MINUTE_MS,
  OUTCOME_GROUPS,
  outcomeGroup,
  retryAt,
  retryStrategy,
  unitInterval,
} from "outdial-plugin-sdk";

const keys = {
  base_delay: "Delay before the first retry. Default: 5m.",
  base_delay_busy: "Base delay after a busy line. Default: base_delay.",
  base_delay_no_answer: "Base delay after no answer. Default: base_delay.",
  base_delay_voicemail: "Base delay after voicemail. Default: base_delay.",
  base_delay_call_screening: "Base delay after call screening. Default: base_delay.",
  base_delay_failed: "Base delay after a failed call. Default: base_delay.",
  base_delay_answered: "Base delay after a non-terminal answered call. Default: base_delay.",
  multiplier: "Growth factor per further attempt. Default: 2.",
  max_delay: "Upper bound of any delay. Default: 4h.",
  jitter: "Random spread as a fraction of the delay, 0 to 1. Default: 0.2.",
};

export default retryStrategy({
  name: "retry-backoff-js",
  version: "0.2.0",
  keys,

  configure(config) {
    const base = config.durationMs("base_delay", 5 * MINUTE_MS);
    return {
      // Base delay per outcome group, indexed as `outcomeGroup` numbers them.
      baseMs: OUTCOME_GROUPS.map((group) => config.durationMs(`base_delay_${group}`, base)),
      multiplier: config.number("multiplier", 2, { min: 1, max: 100 }),
      maxDelayMs: config.durationMs("max_delay", 4 * HOUR_MS),
      jitter: config.number("jitter", 0.2, { min: 0, max: 1 }),
    };
  },

  decide(input, { baseMs, multiplier, maxDelayMs, jitter }) {
    const last = input.lastAttempt();
    const settled = input.settledByDispositionOrLimit();
    if (settled) {
      return settled;
    }
    const exponent = Math.min(Math.max(input.attemptsMade - 1, 0), 60);
    const delay = Math.min(baseMs[outcomeGroup(last)] * multiplier ** exponent, maxDelayMs);
    // Spread retries over [delay * (1 - jitter), delay * (1 + jitter)],
    // seeded from the attempt id so the decision is reproducible.
    const spread = (unitInterval(input.seed) * 2 - 1) * jitter;
    const jittered = Math.min(Math.max(delay * (1 + spread), 0), maxDelayMs);
    return retryAt(input.now + Math.trunc(jittered));
  },
});
