#!/usr/bin/env node
// Build a JavaScript outdial plugin into a WebAssembly component:
//
//   outdial-js-build <entry.js> --kind retry|classifier|provider -o plugin.wasm
//
// The entry module default-exports a plugin defined with the SDK. This
// bundles it with the SDK (esbuild), then runs `jco componentize` on the
// world of its kind from the SDK's WIT (`sdk/wit`, the one source of the
// contract). Everything runs offline once `npm ci` is done.

import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { producersSection } from "../src/producers.js";

const SDK_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// The released 0.2.0 contract, kept unchanged beside the newer ones: this
// SDK speaks it, and the host loads its plugins beside newer ones.
const WIT_DIR = resolve(SDK_ROOT, "../wit/v0.2.0");
const SDK_VERSION = JSON.parse(readFileSync(join(SDK_ROOT, "package.json"), "utf8")).version;
const WIT_PACKAGE = "outdial:plugin@0.2.0";
const require = createRequire(import.meta.url);

// Each kind: its world, the interface it exports, the SDK function that
// adapts the plugin to it, and the WIT imports that function binds.
const KINDS = {
  retry: {
    world: "retry-strategy",
    exportName: "retry",
    adapter: "exportRetryStrategy",
    imports: { host: "host", retryContext: "retry-context" },
  },
  classifier: {
    world: "disposition-classifier",
    exportName: "classifier",
    adapter: "exportClassifier",
    imports: { host: "host" },
  },
  provider: {
    world: "provider-adapter",
    exportName: "provider",
    adapter: "exportProviderAdapter",
    imports: { host: "host" },
  },
};

// jco's arguments per engine. QuickJS only, for its size and call cost
// (docs/plugins-javascript.md has the numbers); the host does not run the
// component model's async ABI, hence the synchronous runtime. The SDK also
// speaks StarlingMonkey's value shapes (src/engine.js), but jco 1.35.0's
// StarlingMonkey path fails its WIT pre-check reading `--wit` from disk.
const ENGINES = {
  quickjs: ["--backend", "qjs", "--backend-qjs-disable-async"],
};

const USAGE = `usage: outdial-js-build <entry.js> --kind retry|classifier|provider -o <plugin.wasm>
       [--keep-bundle <bundle.js>]

  <entry.js>      the plugin module; its default export is a plugin defined
                  with retryStrategy, classifier or providerAdapter
  --kind          which world to build: retry, classifier or provider
  -o, --out       where to write the component
  --keep-bundle   also write the bundled JavaScript here, to read what was built`;

function fail(message) {
  console.error(`outdial-js-build: ${message}`);
  process.exit(1);
}

function parseCommandLine() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        kind: { type: "string" },
        out: { type: "string", short: "o" },
        engine: { type: "string", default: "quickjs" },
        "keep-bundle": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    fail(`${error.message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (positionals.length !== 1) {
    fail(`expected one entry module, got ${positionals.length}\n${USAGE}`);
  }
  if (!KINDS[values.kind]) {
    fail(`--kind must be one of ${Object.keys(KINDS).join(", ")}, got ${JSON.stringify(values.kind ?? null)}`);
  }
  if (!values.out) {
    fail(`-o <plugin.wasm> is required\n${USAGE}`);
  }
  if (!ENGINES[values.engine]) {
    fail(`--engine must be one of ${Object.keys(ENGINES).join(", ")}, got "${values.engine}"`);
  }
  const entry = resolve(positionals[0]);
  if (!existsSync(entry)) {
    fail(`entry module ${positionals[0]} does not exist`);
  }
  return { entry, kind: KINDS[values.kind], out: resolve(values.out), engine: values.engine, keepBundle: values["keep-bundle"] };
}

/** The module that imports the author's plugin and exports the world's interface. */
function generatedEntry(entry, kind, engine) {
  const lines = [`import plugin from ${JSON.stringify(entry)};`];
  for (const [binding, iface] of Object.entries(kind.imports)) {
    lines.push(`import * as ${binding} from "outdial:plugin/${iface}@0.2.0";`);
  }
  lines.push(`import { ${kind.adapter} } from ${JSON.stringify(join(SDK_ROOT, "src/component.js"))};`);
  const bindings = Object.keys(kind.imports).join(", ");
  lines.push(`export const ${kind.exportName} = ${kind.adapter}(plugin, { ${bindings}, engine: "${engine}" });`);
  return `${lines.join("\n")}\n`;
}

/** Resolve the SDK's own package name to this SDK, so a plugin holds one copy of it. */
const sdkResolver = {
  name: "outdial-plugin-sdk",
  setup(build) {
    const { exports } = JSON.parse(readFileSync(join(SDK_ROOT, "package.json"), "utf8"));
    build.onResolve({ filter: /^outdial-plugin-sdk(\/.*)?$/ }, (args) => {
      const subpath = `.${args.path.slice("outdial-plugin-sdk".length)}`;
      const target = exports[subpath];
      if (typeof target !== "string") {
        return { errors: [{ text: `outdial-plugin-sdk has no export "${subpath}": expected one of ${Object.keys(exports).join(", ")}` }] };
      }
      return { path: join(SDK_ROOT, target) };
    });
    build.onResolve({ filter: /^node:|^(fs|path|os|net|http|https|child_process|crypto)$/ }, (args) => ({
      errors: [{ text: `"${args.path}" is not available: plugins are sans-IO and run without Node.js's modules` }],
    }));
  },
};

async function bundle(entryFile, workDir) {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [entryFile],
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    target: "es2022",
    // The WIT imports are bound by jco, not bundled.
    external: ["outdial:*", "wasi:*"],
    plugins: [sdkResolver],
    write: false,
    logLevel: "silent",
    absWorkingDir: workDir,
    legalComments: "none",
  }).catch((error) => {
    const messages = (error.errors ?? []).map((item) =>
      item.location ? `${item.location.file}:${item.location.line}:${item.location.column}: ${item.text}` : item.text,
    );
    fail(`bundling failed:\n  ${messages.join("\n  ") || error.message}`);
  });
  return result.outputFiles[0].text;
}

/** jco's command-line script: its package does not export package.json, so walk up from its API. */
function jcoCommandLine() {
  let dir = dirname(require.resolve("@bytecodealliance/jco"));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) fail("cannot find @bytecodealliance/jco's package.json: run npm ci in the SDK");
    dir = parent;
  }
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  return join(dir, manifest.bin.jco);
}

function componentize(bundleFile, kind, engine, out) {
  const jcoBin = jcoCommandLine();
  const args = [
    jcoBin,
    "componentize",
    bundleFile,
    "--wit",
    WIT_DIR,
    "--world-name",
    `outdial:plugin/${kind.world}@0.2.0`,
    ...ENGINES[engine],
    "--out",
    out,
  ];
  const run = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (run.status !== 0) {
    fail(`jco componentize failed for world ${kind.world} (exit ${run.status ?? run.signal}):\n${run.stderr || run.stdout}`);
  }
}

async function main() {
  const { entry, kind, out, engine, keepBundle } = parseCommandLine();
  if (!existsSync(join(WIT_DIR, "plugin.wit"))) {
    fail(`the contract ${join(WIT_DIR, "plugin.wit")} is missing: the SDK must sit beside sdk/wit/v0.2.0`);
  }
  const workDir = mkdtempSync(join(tmpdir(), "outdial-js-build-"));
  try {
    const entryFile = join(workDir, "entry.mjs");
    writeFileSync(entryFile, generatedEntry(entry, kind, engine));
    const bundled = await bundle(entryFile, dirname(entry));
    const bundleFile = join(workDir, "plugin.js");
    writeFileSync(bundleFile, bundled);
    if (keepBundle) {
      writeFileSync(resolve(keepBundle), bundled);
    }
    componentize(bundleFile, kind, engine, out);
    appendFileSync(
      out,
      producersSection({
        language: [["JavaScript", ""]],
        "processed-by": [["outdial-js-build", SDK_VERSION]],
      }),
    );
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const size = statSync(out).size;
  console.log(
    `built ${relative(process.cwd(), out) || out}: ${kind.world} of ${WIT_PACKAGE} on ${engine}, ${(size / 1024 / 1024).toFixed(2)} MiB`,
  );
}

await main();
