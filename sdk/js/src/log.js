// Log lines that reach the host's log under the plugin's name. Inside a
// component they go through the WIT `host` import, bound by the build's
// generated entry; in native tests, to stderr.

const LEVELS = ["trace", "debug", "info", "warn", "error"];

let hostImport = null;

/** Route log lines to the host; called by the component's generated entry. */
export function bindHost(host) {
  hostImport = host;
}

/** Write one line at `level`: "trace", "debug", "info", "warn" or "error". */
export function log(level, message) {
  if (!LEVELS.includes(level)) {
    throw new TypeError(`unknown log level "${level}": expected one of ${LEVELS.join(", ")}`);
  }
  if (hostImport) {
    hostImport.log(level, String(message));
  } else {
    console.error(`[${level}] ${message}`);
  }
}

export const debug = (message) => log("debug", message);
export const info = (message) => log("info", message);
export const warn = (message) => log("warn", message);
export const error = (message) => log("error", message);

/** Tell the host why the instance is about to trap. */
export function reportPanic(message) {
  if (hostImport) {
    hostImport.reportPanic(String(message));
  } else {
    console.error(`plugin panicked: ${message}`);
  }
}
