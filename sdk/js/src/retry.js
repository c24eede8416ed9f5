// Retry strategies: decide, after an attempt has ended, when to dial again.

import { checkDefinition, configKeysOf, configureState, metadataOf } from "./define.js";
import { wholeNumber } from "./engine.js";
import { PluginError } from "./errors.js";
import { DAY_MS } from "./units.js";

// ---- Decisions: the WIT `decision` variant --------------------------------

/** Dial again, not before `at` (milliseconds since the epoch, UTC). */
export function retryAt(at) {
  return { tag: "retry-at", val: wholeNumber(at, "retryAt's time") };
}

/** Call back at a time agreed with the contact. */
export function followUpAt(at) {
  return { tag: "follow-up-at", val: wholeNumber(at, "followUpAt's time") };
}

/** Stop calling this contact, for `reason`. */
export function giveUp(reason) {
  return { tag: "give-up", val: String(reason) };
}

const DECISION_TAGS = ["retry-at", "follow-up-at", "give-up"];

/** A decision from plugin code, checked; its time a Number. */
export function checkDecision(decision, pluginName) {
  if (!decision || !DECISION_TAGS.includes(decision.tag)) {
    throw PluginError.internal(
      `plugin "${pluginName}": decide must return retryAt(ms), followUpAt(ms) or giveUp(reason), got ${safeJson(decision)}`,
    );
  }
  if (decision.tag === "give-up") {
    return { tag: "give-up", val: String(decision.val) };
  }
  return { tag: decision.tag, val: wholeNumber(decision.val, `the ${decision.tag} time`) };
}

// ---- The input of a decision ----------------------------------------------

/** FNV-1a of `key`'s UTF-8 bytes: the host derives a decision's seed alike. */
export function fnv1a(key) {
  let hash = 0xcbf29ce484222325n;
  for (const byte of utf8Bytes(key)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash;
}

function utf8Bytes(text) {
  const bytes = [];
  for (const char of text) {
    const code = char.codePointAt(0);
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else
      bytes.push(
        0xf0 | (code >> 18),
        0x80 | ((code >> 12) & 63),
        0x80 | ((code >> 6) & 63),
        0x80 | (code & 63),
      );
  }
  return bytes;
}

const TWO_POW_53 = 2 ** 53;

/**
 * A number in [0, 1) taken from the top 53 bits of a u64 `seed` (a BigInt or
 * a Number), as the Rust plugins compute it. Under QuickJS the host's seed
 * arrives rounded to 53 significant bits, so the last bit may differ.
 */
export function unitInterval(seed) {
  const top53 = typeof seed === "bigint" ? Number(seed >> 11n) : Math.floor(Number(seed) / 2048);
  return Math.min(top53, TWO_POW_53 - 1) / TWO_POW_53;
}

/**
 * Index of the outcome group an attempt belongs to, the way strategies
 * usually tell outcomes apart: 0 busy, 1 no answer, 2 voicemail (or fax),
 * 3 call screening, 4 failed (or canceled, unknown), 5 answered by a person.
 */
export function outcomeGroup(outline) {
  switch (outline.outcome) {
    case "busy":
      return 0;
    case "no-answer":
      return 1;
    case "answered":
      if (outline.machineDetection === "machine" || outline.machineDetection === "fax") return 2;
      if (outline.machineDetection === "call-screening") return 3;
      return 5;
    default:
      return 4;
  }
}

/** The names of the groups of `outcomeGroup`, as config keys usually spell them. */
export const OUTCOME_GROUPS = ["busy", "no_answer", "voicemail", "call_screening", "failed", "answered"];

/**
 * The UTC instant of `hour:minute` local time, `daysAhead` days from the
 * local date of `nowLocal`, assuming its UTC offset still holds.
 */
export function atLocal(nowLocal, nowUtcMs, daysAhead, hour, minute) {
  const secondsIntoDay = nowLocal.hour * 3600 + nowLocal.minute * 60 + nowLocal.second;
  const millisIntoSecond = ((nowUtcMs % 1000) + 1000) % 1000;
  const midnight = nowUtcMs - secondsIntoDay * 1000 - millisIntoSecond;
  return midnight + daysAhead * DAY_MS + (hour * 3600 + minute * 60) * 1000;
}

/** An attempt's outline, as the host makes it from a labelled attempt. */
export function outlineOf(labelled) {
  const { attempt, disposition } = labelled;
  return {
    number: attempt.number,
    startedAt: attempt.startedAt,
    answeredAt: attempt.answeredAt ?? null,
    endedAt: attempt.endedAt,
    outcome: attempt.outcome,
    sipCode: attempt.sipCode ?? null,
    talkMs: attempt.talkMs,
    ringMs: attempt.ringMs,
    machineDetection: attempt.machineDetection,
    costMicros: attempt.costMicros ?? null,
    disposition: disposition
      ? {
          terminal: disposition.terminal,
          score: disposition.score ?? null,
          sentiment: disposition.sentiment ?? null,
          followUpAt: disposition.followUpAt ?? null,
        }
      : null,
  };
}

/**
 * Everything a retry decision may depend on. The time and limits are
 * fields; the attempts and the contact are read through methods: inside a
 * component each asks the host for just what it returns, so a strategy pays
 * only for what it reads; in a native test they come from what the test
 * gave (`new RetryInput(...)`, `push`).
 */
export class RetryInput {
  /**
   * An input for `contact` with no attempts yet, for tests; add attempts
   * with `push`. `nowLocal` is a WIT `local-time` record, `limits` `{ maxAttempts }`.
   */
  constructor({ contact, now, nowLocal, limits }) {
    /** The decision time, UTC, in milliseconds. */
    this.now = now;
    /** The decision time on the contact's local clock. */
    this.nowLocal = nowLocal;
    /** `{ maxAttempts }`. */
    this.limits = limits;
    this.made = 0;
    this.seedValue = fnv1a(contact.id);
    this.source = { given: { contact, history: [] } };
    this.lastOutline = undefined;
  }

  /** The input the host hands a component's `decide`; reads go through `reader`. */
  static fromHost({ now, nowLocal, limits, attemptsMade, seed }, reader) {
    const input = Object.create(RetryInput.prototype);
    input.now = now;
    input.nowLocal = nowLocal;
    input.limits = limits;
    input.made = attemptsMade;
    input.seedValue = seed;
    input.source = { host: reader };
    input.lastOutline = undefined;
    return input;
  }

  /** Add the attempt that ended last: `{ attempt, disposition }`. Tests only. */
  push(labelled) {
    if (!this.source.given) {
      throw new Error("the history of a decision the host asked for is read-only");
    }
    this.seedValue = fnv1a(labelled.attempt.id);
    this.source.given.history.push(labelled);
    this.made = this.source.given.history.length;
    this.lastOutline = undefined;
    return this;
  }

  /** How many attempts have been made so far; the last one just ended. */
  get attemptsMade() {
    return this.made;
  }

  /** True when no further attempt is allowed. */
  attemptsExhausted() {
    return this.made >= this.limits.maxAttempts;
  }

  /**
   * A u64 BigInt derived from the id of the attempt that just ended (or the
   * contact's id before any), the same whenever this decision is asked
   * again: the seed for jitter.
   */
  get seed() {
    return this.seedValue;
  }

  /** A number in [0, 1) from the seed: `unitInterval(input.seed)`. */
  random() {
    return unitInterval(this.seedValue);
  }

  /** The outline of attempt `number` (1 is the first), or null. */
  outline(number) {
    if (!isAttemptNumber(this, number)) return null;
    if (this.source.host) return this.source.host.outline(number);
    return outlineOf(this.source.given.history[number - 1]);
  }

  /** The outline of the attempt that just ended, or null; read once per decision. */
  last() {
    if (this.lastOutline === undefined) {
      this.lastOutline = this.outline(this.made);
    }
    return this.lastOutline;
  }

  /** The attempt that just ended, or an `invalid-input` error when there is none. */
  lastAttempt() {
    const last = this.last();
    if (last === null) {
      throw PluginError.invalidInput("no attempt has been made");
    }
    return last;
  }

  /** The outlines of every attempt so far, oldest first. */
  outlines() {
    if (this.source.host) return this.source.host.outlines();
    return this.source.given.history.map(outlineOf);
  }

  /** The disposition label of attempt `number`, e.g. "voicemail", or null. */
  label(number) {
    if (!isAttemptNumber(this, number)) return null;
    if (this.source.host) return this.source.host.label(number);
    return this.source.given.history[number - 1].disposition?.label ?? null;
  }

  /** Attempt `number` in full, `{ attempt, disposition }`, or null. */
  attempt(number) {
    if (!isAttemptNumber(this, number)) return null;
    if (this.source.host) return this.source.host.attempt(number);
    return this.source.given.history[number - 1];
  }

  /** The contact being decided on. */
  contact() {
    if (this.source.host) return this.source.host.contact();
    return this.source.given.contact;
  }

  /**
   * What most strategies decide before their own logic: follow up when the
   * contact asked for it, give up on a terminal disposition or when every
   * attempt is used; null when the strategy has to decide.
   */
  settledByDispositionOrLimit() {
    const last = this.last();
    const disposition = last?.disposition;
    if (disposition) {
      if (disposition.followUpAt !== null && disposition.followUpAt !== undefined) {
        return followUpAt(Math.max(disposition.followUpAt, this.now));
      }
      if (disposition.terminal) {
        const label = this.label(last.number) ?? "";
        return giveUp(`disposition "${label}" is terminal`);
      }
    }
    if (this.attemptsExhausted()) {
      return giveUp(`${this.made} of ${this.limits.maxAttempts} attempts made`);
    }
    return null;
  }

  /** The UTC instant of `hour:minute` local time, `daysAhead` days from today. */
  atLocal(daysAhead, hour, minute) {
    return atLocal(this.nowLocal, this.now, daysAhead, hour, minute);
  }
}

/** Whether `number` names one of the attempts made so far (1 is the first). */
function isAttemptNumber(input, number) {
  return Number.isInteger(number) && number >= 1 && number <= input.made;
}

// ---- Defining a retry strategy --------------------------------------------

/**
 * Define a retry strategy:
 *
 *     export default retryStrategy({
 *       name: "fixed-delay", version: "0.1.0",
 *       keys: { delay: "Wait before each retry. Default: 15m." },
 *       configure: (config) => ({ delay: config.durationMs("delay", 15 * MINUTE_MS) }),
 *       decide: (input, { delay }) => input.attemptsExhausted() ? giveUp("done") : retryAt(input.now + delay),
 *     });
 *
 * `configure(config)` returns the plugin's state (the Config itself when
 * omitted) and may throw `PluginError.invalidConfig`; `decide(input, state)`
 * returns `retryAt`, `followUpAt` or `giveUp`. The result is the plugin:
 * `plugin.configure(config).decide(input)` runs it natively in tests, and
 * the build exports it as the component's `retry` interface.
 */
export function retryStrategy(definition) {
  checkDefinition(definition, "retry strategy", ["decide"]);
  const configKeys = configKeysOf(definition.keys, definition.name);
  return Object.freeze({
    kind: "retry-strategy",
    name: definition.name,
    metadata: () => metadataOf(definition, "retry-strategy", configKeys),
    configure(config) {
      const state = configureState(definition, configKeys, config);
      return Object.freeze({
        state,
        decide: (input) => checkDecision(definition.decide(input, state), definition.name),
      });
    },
  });
}

function safeJson(value) {
  try {
    return JSON.stringify(value, (_, inner) => (typeof inner === "bigint" ? `${inner}n` : inner)) ?? String(value);
  } catch {
    return String(value);
  }
}
