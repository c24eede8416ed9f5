// {{name}}: a provider adapter for a JSON call API. It builds the requests
// the host sends and reads what comes back; it does no I/O itself.
//
// The wire shape, to adapt to your provider's:
// - place a call: POST {base_url}/calls with a bearer token and
//   { to, from, status_callback, reference, parameters }, answered with { id };
// - webhooks: the call object { id, reference, status, answered_by,
//   duration, sip_code }, signed in X-Signature: the hex HMAC-SHA256 of the
//   body under webhook_secret;
// - status poll: GET {base_url}/calls/{id}, answered with the call object.

import {
  PluginError,
  ProviderError,
  WebhookError,
  header,
  httpRequest,
  providerAdapter,
  utf8Decode,
  utf8Encode,
} from "outdial-plugin-sdk";
import { constantTimeEqual, hmacSha256Hex } from "./hmac-sha256.js";

export const SIGNATURE_HEADER = "X-Signature";

// Encoding, hashing and decoding run as plain JavaScript, 0.5 to 2 µs a byte
// on QuickJS: a larger body is refused before that work, so that no call
// uses up its CPU time (50 ms by default). Calls and status webhooks are far
// smaller; for larger ones raise this together with the plugin's `cpu_ms`.
const MAX_BODY_BYTES = 8 * 1024;

// The provider's call statuses, as outdial's call states and outcomes.
const STATES = new Map([
  ["queued", "queued"],
  ["ringing", "ringing"],
  ["in-progress", "in-progress"],
]);
const OUTCOMES = new Map([
  ["completed", "answered"],
  ["busy", "busy"],
  ["no-answer", "no-answer"],
  ["failed", "failed"],
  ["canceled", "canceled"],
]);
const DETECTIONS = new Map([
  ["human", "human"],
  ["machine", "machine"],
]);

export default providerAdapter({
  name: "{{name}}",
  version: "0.1.0",
  keys: {
    base_url: { required: true, description: "Base URL of the provider's API, e.g. https://api.provider.example/v1." },
    api_key: { required: true, description: 'Bearer token for the API. Give it as { env = "VAR" }.' },
    webhook_secret: {
      required: true,
      description: 'Key the provider signs webhooks with (HMAC-SHA256). Give it as { env = "VAR" }.',
    },
  },

  configure(config) {
    const baseUrl = config.required("base_url").trim().replace(/\/+$/, "");
    if (!/^https?:\/\/[^/]/.test(baseUrl)) {
      throw PluginError.invalidConfig(`key "base_url" has value "${baseUrl}": expected an http or https URL`);
    }
    return {
      baseUrl,
      authorization: `Bearer ${config.required("api_key")}`,
      webhookKey: utf8Encode(config.required("webhook_secret")),
    };
  },

  buildPlaceCall(call, { baseUrl, authorization }) {
    if (!isE164(call.to)) {
      throw ProviderError.invalidNumber(`"${call.to}" is not an E.164 number`);
    }
    const body = JSON.stringify({
      to: call.to,
      from: call.caller,
      status_callback: call.callbackUrl,
      reference: call.attemptId,
      parameters: Object.fromEntries(call.parameters),
    });
    if (body.length > MAX_BODY_BYTES) {
      throw ProviderError.permanent(`the call's parameters make a body of ${body.length} characters, more than ${MAX_BODY_BYTES}`);
    }
    const headers = [
      ["Authorization", authorization],
      ["Content-Type", "application/json"],
      // The attempt id keeps a resent request from placing a second call.
      ["Idempotency-Key", call.attemptId],
    ];
    return httpRequest("POST", `${baseUrl}/calls`, headers, body);
  },

  parsePlaceCall(call, response) {
    const id = readResponse(response)?.id;
    if (typeof id !== "string" || id === "") {
      throw ProviderError.permanent('the provider accepted the call but its answer has no "id"');
    }
    return id;
  },

  parseWebhook(webhook, { webhookKey }) {
    // Verify before reading: a body without the right signature is not the provider's.
    const signature = header(webhook.headers, SIGNATURE_HEADER);
    if (signature === null) {
      throw WebhookError.badSignature(`the ${SIGNATURE_HEADER} header is missing`);
    }
    if (webhook.body.length > MAX_BODY_BYTES) {
      throw WebhookError.malformed(`the body is ${webhook.body.length} bytes, more than ${MAX_BODY_BYTES}`);
    }
    if (!constantTimeEqual(hmacSha256Hex(webhookKey, webhook.body), signature.trim().toLowerCase())) {
      throw WebhookError.badSignature(`${SIGNATURE_HEADER} does not match the body`);
    }
    let call;
    try {
      call = JSON.parse(utf8Decode(webhook.body));
    } catch {
      throw WebhookError.malformed("the body is not JSON");
    }
    return [eventOf(call, WebhookError.malformed)];
  },

  buildStatusPoll(providerCallId, { baseUrl, authorization }) {
    const url = `${baseUrl}/calls/${encodeURIComponent(providerCallId)}`;
    return httpRequest("GET", url, [["Authorization", authorization]]);
  },

  parseStatusPoll(providerCallId, response) {
    return eventOf(readResponse(response), ProviderError.permanent);
  },
});

/** E.164: "+", then 7 to 15 digits, the first not 0. */
export function isE164(number) {
  return /^\+[1-9]\d{6,14}$/.test(number);
}

/** The JSON of a successful answer, or the typed error of a refused one. */
function readResponse({ status, headers, body }) {
  if (status === 429) {
    // Retry-After in seconds; a second when it is missing or a date, an hour at most.
    const seconds = Number(header(headers, "Retry-After"));
    throw ProviderError.throttled(seconds > 0 ? Math.ceil(Math.min(seconds, 3600) * 1000) : 1000);
  }
  if (status === 401 || status === 403) {
    throw ProviderError.auth(`the provider answered HTTP ${status}`);
  }
  if (status === 408 || status >= 500) {
    throw ProviderError.transient(`the provider answered HTTP ${status}`);
  }
  if (status < 200 || status > 299) {
    throw ProviderError.permanent(`the provider answered HTTP ${status}`);
  }
  if (body.length > MAX_BODY_BYTES) {
    throw ProviderError.permanent(`the provider's answer is ${body.length} bytes, more than ${MAX_BODY_BYTES}`);
  }
  try {
    return JSON.parse(utf8Decode(body));
  } catch {
    throw ProviderError.permanent("the provider's answer is not JSON");
  }
}

/**
 * The call object that webhooks and status polls carry, as a call event;
 * `refusal(message)` makes the error for one that cannot be read.
 */
function eventOf(call, refusal) {
  if (typeof call?.id !== "string" || call.id === "") {
    throw refusal('the call has no "id"');
  }
  const outcome = OUTCOMES.get(call.status) ?? null;
  const state = outcome === null ? STATES.get(call.status) : "ended";
  if (state === undefined) {
    throw refusal(`call status ${JSON.stringify(call.status)} is not understood`);
  }
  const answered = outcome === "answered";
  // Seconds as milliseconds; a day at most, which no call lasts.
  const seconds = Number(call.duration);
  const talkMs = answered && seconds > 0 && seconds <= 86_400 ? Math.round(seconds * 1000) : 0;
  const sipCode = call.sip_code;
  return {
    providerCallId: call.id,
    attemptId: typeof call.reference === "string" ? call.reference : null,
    state,
    at: null,
    outcome,
    sipCode: Number.isInteger(sipCode) && sipCode >= 100 && sipCode <= 699 ? sipCode : null,
    // Talk time is known once the call has ended.
    talkMs: outcome === null ? null : talkMs,
    machineDetection: answered ? (DETECTIONS.get(call.answered_by) ?? "not-run") : "not-run",
    transcript: null,
    costMicros: null,
    metadata: [["status", call.status]],
  };
}
