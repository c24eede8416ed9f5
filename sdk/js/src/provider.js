// Provider adapters: speak a provider's HTTP API without doing I/O. The
// host sends the requests, within the campaign's egress allow-list, and
// hands the responses back.

import { checkDefinition, configKeysOf, configureState, metadataOf } from "./define.js";
import { ProviderError } from "./errors.js";

/** The value of header `name` in a `[name, value]` list, compared case-insensitively. */
export function header(headers, name) {
  const wanted = name.toLowerCase();
  const found = headers.find(([key]) => key.toLowerCase() === wanted);
  return found ? found[1] : null;
}

/** UTF-8 bytes of `text`, for a request body. */
export function utf8Encode(text) {
  const bytes = [];
  for (const char of text) {
    const code = char.codePointAt(0);
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else
      bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
  }
  return new Uint8Array(bytes);
}

/** Text of UTF-8 `bytes` (a Uint8Array or an array), invalid sequences as U+FFFD. */
export function utf8Decode(bytes) {
  let text = "";
  for (let index = 0; index < bytes.length; ) {
    const first = bytes[index];
    const length = first < 0x80 ? 1 : first >= 0xf0 && first < 0xf8 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 0;
    let code = length === 1 ? first : length === 2 ? first & 31 : length === 3 ? first & 15 : first & 7;
    let valid = length > 0 && index + length <= bytes.length;
    for (let offset = 1; valid && offset < length; offset += 1) {
      const next = bytes[index + offset];
      valid = (next & 0xc0) === 0x80;
      code = (code << 6) | (next & 63);
    }
    const minimum = [0, 0, 0x80, 0x800, 0x10000][length];
    if (!valid || code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      text += "\ufffd";
      index += 1;
    } else {
      text += String.fromCodePoint(code);
      index += length;
    }
  }
  return text;
}

/** A WIT `http-request`; `body` a string (sent as UTF-8) or bytes. */
export function httpRequest(method, url, headers = [], body = "") {
  return { method, url, headers, body: typeof body === "string" ? utf8Encode(body) : Uint8Array.from(body) };
}

/**
 * Define a provider adapter: `buildPlaceCall(call, state)`,
 * `parsePlaceCall(call, response, state)`, `parseWebhook(webhook, state)`,
 * and optionally `buildStatusPoll(providerCallId, state)` (null when the
 * provider cannot be polled) and `parseStatusPoll(providerCallId, response,
 * state)`. Refuse with `ProviderError` or `WebhookError`.
 */
export function providerAdapter(definition) {
  checkDefinition(definition, "provider adapter", ["buildPlaceCall", "parsePlaceCall", "parseWebhook"]);
  const configKeys = configKeysOf(definition.keys, definition.name);
  return Object.freeze({
    kind: "provider-adapter",
    name: definition.name,
    metadata: () => metadataOf(definition, "provider-adapter", configKeys),
    configure(config) {
      const state = configureState(definition, configKeys, config);
      return Object.freeze({
        state,
        buildPlaceCall: (call) => definition.buildPlaceCall(call, state),
        parsePlaceCall: (call, response) => definition.parsePlaceCall(call, response, state),
        parseWebhook: (webhook) => definition.parseWebhook(webhook, state),
        buildStatusPoll: (providerCallId) =>
          definition.buildStatusPoll ? (definition.buildStatusPoll(providerCallId, state) ?? null) : null,
        parseStatusPoll(providerCallId, response) {
          if (!definition.parseStatusPoll) {
            throw ProviderError.permanent("this adapter cannot poll call status");
          }
          return definition.parseStatusPoll(providerCallId, response, state);
        },
      });
    },
  });
}
