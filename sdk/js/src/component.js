// The component side of the SDK: turns a plugin defined with
// `retryStrategy`, `classifier` or `providerAdapter` into the object jco
// exports as the world's interface. Only the entry that
// `outdial-js-build` generates imports this, together with the WIT imports
// it binds; native tests never load it.

import {
  checkEngine,
  fromEngine,
  int64ToEngine,
  optionalInt64ToEngine,
  optionalToEngine,
  seedFromEngine,
} from "./engine.js";
import { PluginError, ProviderError, WebhookError, describeUnexpected } from "./errors.js";
import { bindHost, reportPanic } from "./log.js";
import { RetryInput, checkDecision } from "./retry.js";
import { checkDisposition } from "./classifier.js";
import { httpRequest } from "./provider.js";

/** One instance's configured plugin; the host configures before any other call but `describe`. */
function configuredSlot(plugin) {
  let configured = null;
  return {
    configure(config, engine) {
      configured = plugin.configure(fromEngine(config, engine));
    },
    get() {
      if (configured === null) {
        const message = `plugin "${plugin.name}" called before configure succeeded`;
        reportPanic(message);
        throw new Error(message);
      }
      return configured;
    },
  };
}

/** A refusal in the shape of the WIT `plugin-error`; a bug becomes `internal`. */
function pluginErrorToEngine(error, where) {
  if (error instanceof PluginError) {
    return error.toVariant();
  }
  return { tag: "internal", val: describeUnexpected(error, where) };
}

/** Run `body`; a bug (an exception that is no typed refusal) is reported before the trap. */
function trapOnBug(where, body, isRefusal) {
  try {
    return body();
  } catch (error) {
    if (!isRefusal(error)) {
      reportPanic(describeUnexpected(error, where));
    }
    throw error;
  }
}

function describeIn(plugin) {
  return trapOnBug(`plugin "${plugin.name}" describe`, () => plugin.metadata(), () => false);
}

function checkKind(plugin, kind, exportName) {
  if (!plugin || plugin.kind !== kind) {
    throw new TypeError(
      `${exportName} needs a plugin defined with the SDK's ${kind} helper as the entry module's default export, got ${plugin?.kind ?? typeof plugin}`,
    );
  }
}

/** The `retry` interface of the `retry-strategy` world. */
export function exportRetryStrategy(plugin, { host, retryContext, engine }) {
  checkKind(plugin, "retry-strategy", "exportRetryStrategy");
  checkEngine(engine);
  bindHost(host);
  const slot = configuredSlot(plugin);
  const reader = {
    outline: (number) => fromEngine(retryContext.outline(number), engine) ?? null,
    outlines: () => fromEngine(retryContext.outlines(), engine),
    label: (number) => retryContext.label(number) ?? null,
    attempt: (number) => fromEngine(retryContext.attempt(number), engine) ?? null,
    contact: () => fromEngine(retryContext.getContact(), engine),
  };
  return {
    describe: () => describeIn(plugin),
    configure(config) {
      try {
        slot.configure(config, engine);
      } catch (error) {
        throw pluginErrorToEngine(error, `plugin "${plugin.name}" configure`);
      }
    },
    decide(raw) {
      const configured = slot.get();
      let decision;
      try {
        const input = RetryInput.fromHost(
          {
            now: Number(raw.now),
            nowLocal: raw.nowLocal,
            limits: raw.limits,
            attemptsMade: raw.attemptsMade,
            seed: seedFromEngine(raw.seed),
          },
          reader,
        );
        decision = checkDecision(configured.decide(input), plugin.name);
      } catch (error) {
        throw pluginErrorToEngine(error, `plugin "${plugin.name}" decide`);
      }
      if (decision.tag === "give-up") {
        return decision;
      }
      return { tag: decision.tag, val: int64ToEngine(decision.val, `the ${decision.tag} time`, engine) };
    },
  };
}

/** The `classifier` interface of the `disposition-classifier` world. */
export function exportClassifier(plugin, { host, engine }) {
  checkKind(plugin, "disposition-classifier", "exportClassifier");
  checkEngine(engine);
  bindHost(host);
  const slot = configuredSlot(plugin);
  return {
    describe: () => describeIn(plugin),
    configure(config) {
      try {
        slot.configure(config, engine);
      } catch (error) {
        throw pluginErrorToEngine(error, `plugin "${plugin.name}" configure`);
      }
    },
    classify(contact, attempt, previous) {
      const configured = slot.get();
      let result;
      try {
        result = checkDisposition(
          configured.classify(fromEngine(contact, engine), fromEngine(attempt, engine), fromEngine(previous, engine)),
          plugin.labels,
          plugin.name,
        );
      } catch (error) {
        throw pluginErrorToEngine(error, `plugin "${plugin.name}" classify`);
      }
      return {
        label: result.label,
        terminal: result.terminal,
        score: optionalToEngine(result.score, engine),
        sentiment: optionalToEngine(result.sentiment, engine),
        followUpAt: optionalInt64ToEngine(result.followUpAt, "disposition followUpAt", engine),
      };
    },
  };
}

const isProviderRefusal = (error) => error instanceof ProviderError;
const isWebhookRefusal = (error) => error instanceof WebhookError;

function providerErrorToEngine(error, engine) {
  return error.tag === "throttled"
    ? { tag: "throttled", val: int64ToEngine(error.val, "throttled's delay", engine) }
    : error.toVariant();
}

function requestToEngine(request) {
  return httpRequest(request.method, request.url, request.headers ?? [], request.body ?? "");
}

function callEventToEngine(event, engine) {
  return {
    providerCallId: String(event.providerCallId),
    attemptId: optionalToEngine(event.attemptId, engine),
    state: event.state,
    at: optionalInt64ToEngine(event.at, "call event at", engine),
    outcome: optionalToEngine(event.outcome, engine),
    sipCode: optionalToEngine(event.sipCode, engine),
    talkMs: optionalInt64ToEngine(event.talkMs, "call event talkMs", engine),
    machineDetection: event.machineDetection ?? "not-run",
    transcript: optionalToEngine(event.transcript, engine),
    costMicros: optionalInt64ToEngine(event.costMicros, "call event costMicros", engine),
    metadata: event.metadata ?? [],
  };
}

/** The `provider` interface of the `provider-adapter` world. */
export function exportProviderAdapter(plugin, { host, engine }) {
  checkKind(plugin, "provider-adapter", "exportProviderAdapter");
  checkEngine(engine);
  bindHost(host);
  const slot = configuredSlot(plugin);
  const where = (name) => `plugin "${plugin.name}" ${name}`;
  // A typed refusal goes back as the WIT error; any other exception is a
  // bug, reported to the host before the instance traps.
  const providerCall = (name, body) => {
    try {
      return trapOnBug(where(name), body, isProviderRefusal);
    } catch (error) {
      throw isProviderRefusal(error) ? providerErrorToEngine(error, engine) : error;
    }
  };
  return {
    describe: () => describeIn(plugin),
    configure(config) {
      try {
        slot.configure(config, engine);
      } catch (error) {
        throw pluginErrorToEngine(error, where("configure"));
      }
    },
    buildPlaceCall: (call) =>
      providerCall("buildPlaceCall", () =>
        requestToEngine(slot.get().buildPlaceCall(fromEngine(call, engine))),
      ),
    parsePlaceCall: (call, response) =>
      providerCall("parsePlaceCall", () =>
        String(slot.get().parsePlaceCall(fromEngine(call, engine), fromEngine(response, engine))),
      ),
    parseWebhook(webhook) {
      try {
        return trapOnBug(
          where("parseWebhook"),
          () => slot.get().parseWebhook(fromEngine(webhook, engine)).map((event) => callEventToEngine(event, engine)),
          isWebhookRefusal,
        );
      } catch (error) {
        throw isWebhookRefusal(error) ? error.toVariant() : error;
      }
    },
    buildStatusPoll(providerCallId) {
      const request = trapOnBug(where("buildStatusPoll"), () => slot.get().buildStatusPoll(providerCallId), () => false);
      return request === null || request === undefined
        ? optionalToEngine(null, engine)
        : requestToEngine(request);
    },
    parseStatusPoll: (providerCallId, response) =>
      providerCall("parseStatusPoll", () =>
        callEventToEngine(slot.get().parseStatusPoll(providerCallId, fromEngine(response, engine)), engine),
      ),
  };
}
