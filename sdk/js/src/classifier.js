// Disposition classifiers: say what an ended call means.

import { checkDefinition, configKeysOf, configureState, metadataOf } from "./define.js";
import { wholeNumber } from "./engine.js";
import { PluginError } from "./errors.js";

/**
 * The WIT `disposition` record: a label, whether it ends the contact, and
 * optionally a score (0 to 1), a sentiment (-1 to 1) and a follow-up time.
 */
export function disposition(label, terminal, { score = null, sentiment = null, followUpAt = null } = {}) {
  return { label, terminal, score, sentiment, followUpAt };
}

/** A disposition from plugin code, checked against the declared labels. */
export function checkDisposition(value, labels, pluginName) {
  if (!value || typeof value.label !== "string" || typeof value.terminal !== "boolean") {
    throw PluginError.internal(
      `plugin "${pluginName}": classify must return disposition(label, terminal, ...), got ${JSON.stringify(value)}`,
    );
  }
  if (!labels.includes(value.label)) {
    throw PluginError.internal(
      `plugin "${pluginName}": label "${value.label}" is not declared in its labels: ${labels.join(", ")}`,
    );
  }
  const optionalNumber = (field) => {
    const number = value[field];
    if (number === null || number === undefined) return null;
    if (typeof number !== "number" || !Number.isFinite(number)) {
      throw PluginError.internal(`plugin "${pluginName}": disposition ${field} must be a finite number, got ${number}`);
    }
    return number;
  };
  return {
    label: value.label,
    terminal: value.terminal,
    score: optionalNumber("score"),
    sentiment: optionalNumber("sentiment"),
    followUpAt:
      value.followUpAt === null || value.followUpAt === undefined
        ? null
        : wholeNumber(value.followUpAt, "disposition followUpAt"),
  };
}

/**
 * Define a disposition classifier: `labels` lists every label it may
 * return; `classify(contact, attempt, previous, state)` returns a
 * `disposition(...)`. `configure` and `keys` are as for `retryStrategy`.
 */
export function classifier(definition) {
  checkDefinition(definition, "classifier", ["classify"]);
  if (!Array.isArray(definition.labels) || definition.labels.length === 0) {
    throw new TypeError(`plugin "${definition.name}": a classifier needs "labels", every label it may return`);
  }
  const labels = definition.labels.map(String);
  const configKeys = configKeysOf(definition.keys, definition.name);
  return Object.freeze({
    kind: "disposition-classifier",
    name: definition.name,
    labels,
    metadata: () => metadataOf(definition, "disposition-classifier", configKeys, labels),
    configure(config) {
      const state = configureState(definition, configKeys, config);
      return Object.freeze({
        state,
        classify: (contact, attempt, previous = []) =>
          checkDisposition(definition.classify(contact, attempt, previous, state), labels, definition.name),
      });
    },
  });
}
