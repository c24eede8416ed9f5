import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { utf8Decode, utf8Encode } from "outdial-plugin-sdk";
import adapter from "../plugin.js";

const CONFIG = {
  base_url: "https://api.provider.example/v1/",
  api_key: "test-key",
  webhook_secret: "test-secret",
};
const plugin = adapter.configure(CONFIG);

const call = {
  attemptId: "batch-1-contact-7-1",
  to: "+4930123456",
  caller: "+12125550199",
  callbackUrl: "https://dialer.example.com/v1/webhooks/providers/renewals",
  parameters: [["script", "welcome-v2"]],
};

const response = (status, body, headers = []) => ({ status, headers, body: utf8Encode(body) });

/** A webhook as the provider sends it: `body` signed with the secret unless `signature` says otherwise. */
function webhook(body, signature = createHmac("sha256", CONFIG.webhook_secret).update(body).digest("hex")) {
  return {
    method: "POST",
    url: call.callbackUrl,
    headers: signature === null ? [] : [["X-Signature", signature]],
    body: utf8Encode(body),
    receivedAt: 1_772_463_600_000,
  };
}

test("places a call with a bearer token, the attempt id as idempotency key and a JSON body", () => {
  const request = plugin.buildPlaceCall(call);
  assert.equal(request.method, "POST");
  assert.equal(request.url, "https://api.provider.example/v1/calls");
  assert.deepEqual(request.headers, [
    ["Authorization", "Bearer test-key"],
    ["Content-Type", "application/json"],
    ["Idempotency-Key", "batch-1-contact-7-1"],
  ]);
  assert.deepEqual(JSON.parse(utf8Decode(request.body)), {
    to: "+4930123456",
    from: "+12125550199",
    status_callback: call.callbackUrl,
    reference: "batch-1-contact-7-1",
    parameters: { script: "welcome-v2" },
  });
});

test("refuses a number that is not E.164 before calling the provider", () => {
  for (const to of ["", "4930123456", "+0123456789", "+49 30 123456"]) {
    assert.throws(() => plugin.buildPlaceCall({ ...call, to }), { tag: "invalid-number" }, to);
  }
});

test("reads the call id, and a refusal as its typed error", () => {
  assert.equal(plugin.parsePlaceCall(call, response(201, '{"id": "call-42", "status": "queued"}')), "call-42");
  assert.throws(() => plugin.parsePlaceCall(call, response(429, "{}", [["Retry-After", "3"]])), {
    tag: "throttled",
    val: 3000,
  });
  assert.throws(() => plugin.parsePlaceCall(call, response(401, "{}")), { tag: "auth" });
  assert.throws(() => plugin.parsePlaceCall(call, response(503, "")), { tag: "transient" });
  assert.throws(() => plugin.parsePlaceCall(call, response(200, "{}")), { tag: "permanent" });
  assert.throws(() => plugin.parsePlaceCall(call, response(200, "null")), { tag: "permanent" });
});

test("reads a signed webhook as a call event", () => {
  const body = '{"id":"call-42","reference":"batch-1-contact-7-1","status":"completed","answered_by":"machine","duration":21}';
  const [event] = plugin.parseWebhook(webhook(body));
  assert.equal(event.providerCallId, "call-42");
  assert.equal(event.attemptId, "batch-1-contact-7-1");
  assert.equal(event.state, "ended");
  assert.equal(event.outcome, "answered");
  assert.equal(event.machineDetection, "machine");
  assert.equal(event.talkMs, 21_000);
  const [ringing] = plugin.parseWebhook(webhook('{"id":"call-42","status":"ringing"}'));
  assert.deepEqual([ringing.state, ringing.outcome, ringing.talkMs], ["ringing", null, null]);
  assert.throws(() => plugin.parseWebhook(webhook('{"id":"call-42","status":"toString"}')), { tag: "malformed" });
});

test("refuses a webhook whose signature is wrong or missing", () => {
  const body = '{"id":"call-42","status":"busy"}';
  const signedForAnother = createHmac("sha256", CONFIG.webhook_secret).update('{"id":"call-43","status":"busy"}').digest("hex");
  assert.throws(() => plugin.parseWebhook(webhook(body, signedForAnother)), { tag: "bad-signature" });
  assert.throws(() => plugin.parseWebhook(webhook(body, null)), { tag: "bad-signature" });
  assert.throws(() => plugin.parseWebhook(webhook("not json")), { tag: "malformed" });
  assert.throws(() => plugin.parseWebhook(webhook(`{"id":"call-42","note":"${"x".repeat(9000)}"}`)), { tag: "malformed" });
});

test("polls a call's status and reads the answer", () => {
  const request = plugin.buildStatusPoll("call/42");
  assert.deepEqual([request.method, request.url], ["GET", "https://api.provider.example/v1/calls/call%2F42"]);
  const event = plugin.parseStatusPoll("call-42", response(200, '{"id":"call-42","status":"no-answer"}'));
  assert.deepEqual([event.state, event.outcome, event.talkMs], ["ended", "no-answer", 0]);
});

test("refuses a config without its required keys or with a bad URL", () => {
  assert.throws(() => adapter.configure({ base_url: CONFIG.base_url, api_key: "k" }), (error) =>
    error.val.includes('key "webhook_secret" is required'),
  );
  assert.throws(() => adapter.configure({ ...CONFIG, base_url: "api.provider.example" }), { tag: "invalid-config" });
});
