// {{name}}: a retry strategy that waits a fixed delay before each new
// attempt (a shorter one after a busy line) and gives up at the limit.

import { MINUTE_MS, retryAt, retryStrategy } from "outdial-plugin-sdk";

export default retryStrategy({
  name: "{{name}}",
  version: "0.1.0",
  keys: {
    delay: "Wait before each retry. Default: 15m.",
    busy_delay: "Wait after a busy line, which frees up sooner. Default: delay.",
  },

  configure(config) {
    const delay = config.durationMs("delay", 15 * MINUTE_MS);
    return { delay, busyDelay: config.durationMs("busy_delay", delay) };
  },

  decide(input, { delay, busyDelay }) {
    const last = input.lastAttempt();
    // A callback the contact asked for, a terminal disposition or the
    // attempt limit decides before the delay does.
    const settled = input.settledByDispositionOrLimit();
    if (settled) {
      return settled;
    }
    return retryAt(input.now + (last.outcome === "busy" ? busyDelay : delay));
  },
});
