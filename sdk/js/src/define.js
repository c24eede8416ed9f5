// What every plugin kind has in common: it describes itself (name, version,
// config keys) and is built from its configuration once per instance.

import { Config } from "./config.js";
import { PluginError } from "./errors.js";

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Config keys as the WIT's `config-key` list, from either form an author
 * writes: `{ delay: "Wait before each retry. Default: 15m." }` or
 * `{ token: { required: true, description: "..." } }`, or a list of
 * `{ name, required, description }`.
 */
export function configKeysOf(keys, pluginName) {
  const list = Array.isArray(keys)
    ? keys
    : Object.entries(keys ?? {}).map(([name, spec]) =>
        typeof spec === "string" ? { name, description: spec } : { name, ...spec },
      );
  return list.map((key) => {
    if (typeof key?.name !== "string" || key.name.length === 0) {
      throw new TypeError(`plugin "${pluginName}": a config key has no name: ${JSON.stringify(key)}`);
    }
    return {
      name: key.name,
      required: key.required === true,
      description: String(key.description ?? ""),
    };
  });
}

/** Check what every definition must say, naming the plugin and the field. */
export function checkDefinition(definition, kind, hooks) {
  const name = definition?.name;
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError(`a ${kind} definition needs a "name" string`);
  }
  if (typeof definition.version !== "string" || !SEMVER.test(definition.version)) {
    throw new TypeError(
      `plugin "${name}": "version" must be a semantic version such as "0.1.0", got ${JSON.stringify(definition.version)}`,
    );
  }
  for (const hook of hooks) {
    if (typeof definition[hook] !== "function") {
      throw new TypeError(`plugin "${name}": a ${kind} needs a "${hook}" function`);
    }
  }
  if (definition.configure !== undefined && typeof definition.configure !== "function") {
    throw new TypeError(`plugin "${name}": "configure" must be a function of the config`);
  }
}

/**
 * Build the plugin's state from its config: `definition.configure(config)`,
 * or the Config itself when there is no `configure`. Keys the plugin does
 * not declare are refused, as the host refuses them.
 */
export function configureState(definition, configKeys, config) {
  const checked = Config.from(config);
  const declared = new Set(configKeys.map((key) => key.name));
  for (const [key] of checked.pairs) {
    if (!declared.has(key)) {
      throw PluginError.invalidConfig(
        `key "${key}" is not one plugin "${definition.name}" accepts` +
          (declared.size > 0 ? `: expected one of ${[...declared].join(", ")}` : ": it accepts none"),
      );
    }
  }
  for (const key of configKeys) {
    if (key.required) {
      checked.required(key.name);
    }
  }
  return definition.configure ? definition.configure(checked) : checked;
}

/** The WIT `metadata` record. */
export function metadataOf(definition, kind, configKeys, labels = []) {
  return {
    name: definition.name,
    version: definition.version,
    kind,
    configKeys: configKeys.map((key) => ({ ...key })),
    labels: [...labels],
  };
}
