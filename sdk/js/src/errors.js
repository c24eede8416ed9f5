// Typed refusals: the WIT's `plugin-error`, `provider-error` and
// `webhook-error` variants as throwable errors. The export layer turns a
// thrown one into the variant the host reads.

/** Base of every typed refusal: `tag` is the WIT case, `val` its payload. */
class VariantError extends Error {
  constructor(tag, val, message) {
    super(message);
    this.tag = tag;
    this.val = val;
  }

  /** The WIT variant, as `{ tag, val }`. */
  toVariant() {
    return { tag: this.tag, val: this.val };
  }
}

/** Why a plugin refused a call: the WIT `plugin-error`. */
export class PluginError extends VariantError {
  constructor(tag, message) {
    super(tag, String(message), `${tag}: ${message}`);
    this.name = "PluginError";
  }
  /** The config handed to `configure` is unusable. */
  static invalidConfig(message) {
    return new PluginError("invalid-config", message);
  }
  /** An input is outside what the plugin can decide on. */
  static invalidInput(message) {
    return new PluginError("invalid-input", message);
  }
  /** Anything else that went wrong inside the plugin. */
  static internal(message) {
    return new PluginError("internal", message);
  }
}

/** Why a provider did not accept or answer a request: the WIT `provider-error`. */
export class ProviderError extends VariantError {
  constructor(tag, val) {
    super(tag, val, `${tag}: ${val}`);
    this.name = "ProviderError";
  }
  /** Slow down; try again after this many milliseconds. */
  static throttled(retryAfterMs) {
    return new ProviderError("throttled", retryAfterMs);
  }
  /** The destination number is not valid; never retry it. */
  static invalidNumber(message) {
    return new ProviderError("invalid-number", String(message));
  }
  /** The credentials were refused. */
  static auth(message) {
    return new ProviderError("auth", String(message));
  }
  /** A passing fault; the same request may succeed later. */
  static transient(message) {
    return new ProviderError("transient", String(message));
  }
  /** The request will never succeed. */
  static permanent(message) {
    return new ProviderError("permanent", String(message));
  }
}

/** Why a webhook was refused: the WIT `webhook-error`. */
export class WebhookError extends VariantError {
  constructor(tag, message) {
    super(tag, String(message), `${tag}: ${message}`);
    this.name = "WebhookError";
  }
  /** The signature is missing, wrong or too old. */
  static badSignature(message) {
    return new WebhookError("bad-signature", message);
  }
  /** The body could not be understood. */
  static malformed(message) {
    return new WebhookError("malformed", message);
  }
}

/**
 * What an unexpected exception (a bug, such as a TypeError) says, for the
 * `internal` error it becomes: its name, message and where it was thrown.
 */
export function describeUnexpected(error, where) {
  if (error instanceof Error) {
    const frame = String(error.stack ?? "")
      .split("\n")
      .map((line) => line.trim())
      .find((line) => line.startsWith("at "));
    return `${where} threw ${error.name}: ${error.message}${frame ? ` (${frame})` : ""}`;
  }
  return `${where} threw ${typeof error === "string" ? JSON.stringify(error) : String(error)}`;
}
