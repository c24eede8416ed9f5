// The outdial operator dashboard. Plain JavaScript, no build step: it signs
// in with an API key, reads everything through the /v1 API and follows a
// batch live over server-sent events. Values from the server are only ever
// set as text, never parsed as markup.
"use strict";

// Every API path the page calls. The server's tests check each one against
// its route table, so a renamed route fails the build, not the operator.
const PATHS = {
  campaigns: "/v1/campaigns",
  campaign: "/v1/campaigns/{campaign_id}",
  campaignStats: "/v1/campaigns/{campaign_id}/stats",
  batches: "/v1/batches",
  batch: "/v1/batches/{batch_id}",
  stats: "/v1/batches/{batch_id}/stats",
  status: "/v1/batches/{batch_id}/status",
  debug: "/v1/batches/{batch_id}/debug",
  events: "/v1/batches/{batch_id}/events",
  contacts: "/v1/batches/{batch_id}/contacts",
  contact: "/v1/batches/{batch_id}/contacts/{seq}",
  skip: "/v1/batches/{batch_id}/contacts/{seq}/skip",
  exportCsv: "/v1/batches/{batch_id}/export.csv",
  attemptsCsv: "/v1/batches/{batch_id}/attempts.csv",
  transcripts: "/v1/batches/{batch_id}/transcripts.jsonl",
  pause: "/v1/batches/{batch_id}/pause",
  resume: "/v1/batches/{batch_id}/resume",
  cancel: "/v1/batches/{batch_id}/cancel",
  dispatch: "/v1/batches/{batch_id}/dispatch",
  create: "/v1/campaigns/{campaign_id}/batches",
  preview: "/v1/campaigns/{campaign_id}/batches/preview",
  lists: "/v1/suppression-lists",
  list: "/v1/suppression-lists/{list}",
  entries: "/v1/suppression-lists/{list}/entries",
  entriesUpload: "/v1/suppression-lists/{list}/entries/upload",
  entry: "/v1/suppression-lists/{list}/entries/{phone}",
  suppressions: "/v1/suppressions/{phone}",
};

const KEY_STORAGE = "outdial.apiKey";
const DASH = "\u2014";
const PAGE_SIZE = 50;
// Statuses a contact can still be skipped from.
const WAITING = ["pending", "retrying", "followup_scheduled"];
const FINAL_BATCH = ["completed", "cancelled", "expired"];

// ---------------------------------------------------------------- helpers

function path(name, params = {}) {
  return PATHS[name].replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(String(params[key])));
}

function $(id) {
  return document.getElementById(id);
}

// Builds an element: h("td", {class: "num"}, "12"). Children are nodes or
// text; null and undefined are left out.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "text") el.textContent = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function fill(target, ...children) {
  const el = typeof target === "string" ? $(target) : target;
  if (!el) return;
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
}

const SVG_NS = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) el.setAttribute(name, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

const known = (v) => v !== null && v !== undefined && !(typeof v === "number" && !isFinite(v));
const int = (v) => (known(v) ? Math.round(v).toLocaleString("en-US") : DASH);
const fixed = (v, digits = 1) => (known(v) ? Number(v).toFixed(digits) : DASH);
const pct = (v, digits = 1) => (known(v) ? `${Number(v).toFixed(digits)}%` : DASH);
// A 0..1 ratio as a percentage.
const ratioPct = (v) => (known(v) ? pct(v * 100) : DASH);
const money = (micros) => (known(micros) ? (micros / 1e6).toFixed(2) : DASH);
const secs = (v) => (known(v) ? `${Number(v).toFixed(1)} s` : DASH);
function when(ms) {
  if (!known(ms)) return DASH;
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}
function minuteLabel(ms) {
  return new Date(ms).toISOString().slice(11, 16);
}
function duration(seconds) {
  if (!known(seconds)) return DASH;
  const total = Math.round(seconds);
  const hh = Math.floor(total / 3600);
  const mm = Math.floor((total % 3600) / 60);
  const ss = total % 60;
  return hh ? `${hh}h ${mm}m` : mm ? `${mm}m ${ss}s` : `${ss}s`;
}
function ratio(part, whole) {
  return whole ? part / whole : null;
}

// The first value named `key` in `obj` or in an object nested in it, so the
// page reads a statistic wherever the server puts it, and shows a dash
// where the server has none.
function find(obj, key, want = () => true, depth = 2) {
  if (!obj || typeof obj !== "object") return undefined;
  if (key in obj && known(obj[key]) && want(obj[key])) return obj[key];
  if (depth === 0) return undefined;
  for (const value of Object.values(obj)) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const found = find(value, key, want, depth - 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
const isArray = (v) => Array.isArray(v);
const isObject = (v) => v && typeof v === "object" && !Array.isArray(v);

function toast(message, isError = false) {
  const el = $("toast");
  el.textContent = message;
  el.className = isError ? "toast error" : "toast";
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), isError ? 6000 : 3000);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

async function api(url, { method = "GET", body, contentType, raw = false } = {}) {
  const headers = { Authorization: `Bearer ${apiKey()}` };
  if (body !== undefined) headers["Content-Type"] = contentType || "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  if (!response.ok) {
    let parsed = null;
    try {
      parsed = await response.json();
    } catch (_) {
      // Not JSON: the status says enough.
    }
    const error = parsed && parsed.error ? parsed.error : {};
    if (response.status === 401) signOut("The key was refused; sign in again.");
    throw new ApiError(response.status, error.code || "http_" + response.status, error.message || response.statusText, error);
  }
  return raw ? response : response.json();
}

// ---------------------------------------------------------------- sign-in

function showSignIn(message) {
  $("sign-in").hidden = false;
  $("view").hidden = true;
  $("sign-out").hidden = true;
  $("nav-suppression").hidden = true;
  fill("crumbs");
  $("sign-in-error").textContent = message || "";
  $("api-key").focus();
}

function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  stopPage();
  showSignIn(message);
}

async function signIn(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  try {
    await api(PATHS.campaigns);
  } catch (error) {
    sessionStorage.removeItem(KEY_STORAGE);
    showSignIn(error.status === 401 ? "That key is not known." : `Cannot reach the server: ${error.message}`);
    return;
  }
  $("api-key").value = "";
  route();
}

// ---------------------------------------------------------------- routing

// Whatever the current page runs in the background: stopped on leaving it.
let page = { stop() {} };

function stopPage() {
  page.stop();
  page = { stop() {} };
  setLive(null);
}

function route() {
  stopPage();
  closeDrawer();
  if (!apiKey()) {
    showSignIn();
    return;
  }
  $("sign-in").hidden = true;
  $("view").hidden = false;
  $("sign-out").hidden = false;
  $("nav-suppression").hidden = false;
  const match = location.hash.match(/^#\/batches\/([^/]+)$/);
  const lists = location.hash.match(/^#\/suppression(?:\/([^/]+))?$/);
  if (match) batchPage(decodeURIComponent(match[1]));
  else if (lists) suppressionPage(lists[1] === undefined ? null : decodeURIComponent(lists[1]));
  else homePage();
}

function setLive(on) {
  const el = $("live");
  if (on === null) {
    el.hidden = true;
    return;
  }
  el.hidden = false;
  el.textContent = on ? "live" : "reconnecting";
  el.className = on ? "live" : "live off";
}

// ---------------------------------------------------------------- home

function homePage() {
  fill("crumbs", "Campaigns and batches");
  fill(
    "view",
    h("div", { class: "grid two" },
      h("section", { class: "card" },
        h("div", { class: "row spread" }, h("h2", {}, "Batches"),
          h("div", { class: "row" },
            h("label", { for: "batch-status-filter" }, "Status"),
            h("select", { id: "batch-status-filter", onchange: () => loadBatches(true) },
              h("option", { value: "" }, "any"),
              ["pending", "in_progress", "paused", "completed", "cancelled", "expired"].map((v) => h("option", { value: v }, v))))),
        h("div", { class: "scroll" }, h("table", { id: "batches" })),
        h("div", { class: "pager" }, h("button", { id: "batches-more", class: "secondary", type: "button", hidden: true, onclick: () => loadBatches(false) }, "More"))),
      h("section", { class: "card" }, h("h2", {}, "Campaigns"), h("div", { id: "campaigns" }, h("p", { class: "muted" }, "Loading\u2026")))),
    h("section", { class: "card upload", id: "upload" }, h("h2", {}, "New batch from a CSV file"), h("div", { id: "upload-body" }, h("p", { class: "muted" }, "Loading\u2026"))),
  );
  let stopped = false;
  let cursor = null;
  const loadCampaigns = async () => {
    const { campaigns } = await api(PATHS.campaigns);
    fill("campaigns", campaigns.length ? h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Campaign"), h("th", { class: "num" }, "Concurrency"), h("th", { class: "num" }, "Calls/s"), h("th", { class: "num" }, "Attempts"), h("th", {}, "Provider"))),
      h("tbody", {}, campaigns.map((c) => h("tr", {}, h("td", {}, c.id), h("td", { class: "num" }, int(c.concurrency)), h("td", { class: "num" }, fixed(c.calls_per_second)), h("td", { class: "num" }, int(c.max_attempts)), h("td", {}, c.provider ?? DASH)))))
      : h("p", { class: "muted" }, "This workspace has no campaigns."));
    renderUpload(campaigns);
  };
  const loadBatches = async (reset) => {
    if (reset) cursor = null;
    const params = new URLSearchParams({ limit: PAGE_SIZE });
    const status = $("batch-status-filter")?.value;
    if (status) params.set("status", status);
    if (cursor) params.set("cursor", cursor);
    const data = await api(`${PATHS.batches}?${params}`);
    const table = $("batches");
    if (!table) return;
    const rows = data.batches.map((b) => {
      const c = b.counters;
      return h("tr", { class: "clickable", "data-batch": b.batch_id, onclick: () => (location.hash = `#/batches/${encodeURIComponent(b.batch_id)}`) },
        h("td", {}, h("a", { class: "batch-link", href: `#/batches/${encodeURIComponent(b.batch_id)}` }, b.batch_id)),
        h("td", {}, b.campaign_id),
        h("td", {}, h("span", { class: `status ${b.status}` }, b.status)),
        h("td", { class: "num" }, pct(ratio(c.finished, c.total) * 100, 0)),
        h("td", { class: "num" }, int(c.total)),
        h("td", { class: "num" }, int(c.live)),
        h("td", { class: "num" }, int(c.attempts)),
        h("td", { class: "num" }, pct(c.answer_rate)),
        h("td", { class: "num" }, money(c.cost_micros)),
        h("td", {}, when(b.created_at)));
    });
    if (reset || !table.tBodies.length) {
      fill(table,
        h("thead", {}, h("tr", {}, ["Batch", "Campaign", "Status"].map((t) => h("th", {}, t)), ["Done", "Contacts", "Live", "Attempts", "Answer rate", "Cost"].map((t) => h("th", { class: "num" }, t)), h("th", {}, "Created"))),
        h("tbody", {}, rows));
      if (!rows.length) table.tBodies[0].append(h("tr", {}, h("td", { colspan: 10, class: "muted" }, "No batches yet.")));
    } else {
      table.tBodies[0].append(...rows);
    }
    cursor = data.next_cursor;
    $("batches-more").hidden = !cursor;
  };
  const fail = (error) => !stopped && toast(error.message, true);
  loadCampaigns().catch(fail);
  loadBatches(true).catch(fail);
  // The first page of batches stays current while the operator looks.
  const timer = setInterval(() => {
    if (!cursor || $("batches").tBodies[0]?.rows.length <= PAGE_SIZE) loadBatches(true).catch(fail);
  }, 5000);
  page = { stop() { stopped = true; clearInterval(timer); } };
}

// A CSV upload in two steps: the server validates it and shows what it
// would create, and only the operator's second click writes anything.
function renderUpload(campaigns) {
  if (!campaigns.length) {
    fill("upload-body", h("p", { class: "muted" }, "No campaign to upload to."));
    return;
  }
  let checked = null;
  const options = () => {
    const params = new URLSearchParams();
    const country = $("upload-country").value.trim();
    if (country) params.set("default_country", country);
    // The batch's own working hours, one range; the server checks them as
    // it checks a campaign's window and names the field it refuses.
    const start = $("upload-hours-start").value.trim();
    const end = $("upload-hours-end").value.trim();
    if (start || end) {
      const range = { start, end };
      const days = $("upload-hours-days").value.trim();
      if (days) range.days = days;
      params.set("hours", JSON.stringify({ hours: [range] }));
    }
    // The batch's own retry strategy and dial gate, each sent only when
    // the operator sets it, so the campaign's applies otherwise.
    for (const slot of ["retry", "gate"]) {
      const setting = pluginSetting(`upload-${slot}`);
      if (setting) params.set(slot, JSON.stringify(setting));
    }
    return params;
  };
  const readCsv = async () => {
    const file = $("upload-file").files[0];
    if (file) return file.text();
    return $("upload-text").value;
  };
  const validate = async () => {
    checked = null;
    $("upload-commit").disabled = true;
    fill("upload-preview", h("p", { class: "muted" }, "Validating\u2026"));
    const csv = await readCsv();
    if (!csv.trim()) {
      fill("upload-preview", h("p", { class: "error" }, "Choose a CSV file or paste rows first."));
      return;
    }
    const campaign = $("upload-campaign").value;
    let preview;
    try {
      preview = await api(`${path("preview", { campaign_id: campaign })}?${options()}`, { method: "POST", body: csv, contentType: "text/csv" });
    } catch (error) {
      fill("upload-preview", h("p", { class: "error", id: "upload-error", role: "alert" }, `The upload was refused: ${error.message}`));
      return;
    }
    checked = { csv, campaign, preview, fileName: $("upload-file").files[0]?.name };
    const sampleKeys = ["contact_id", "phone", "name", "time_zone"];
    fill("upload-preview",
      h("p", { id: "upload-summary" },
        h("b", { class: "good" }, `${int(preview.valid)} valid`), ", ",
        h("b", { class: preview.invalid ? "bad" : "muted" }, `${int(preview.invalid)} invalid`),
        preview.invalid ? " \u2014 the rows below are left out if you go on." : " \u2014 every row is good."),
      preview.options.retry ? h("p", { id: "upload-retry-summary" }, `Retries decided by ${describePlugin(preview.options.retry)}.`) : null,
      preview.options.gate ? h("p", { id: "upload-gate-summary" }, `Dials screened by ${describePlugin(preview.options.gate)}.`) : null,
      preview.rows.length ? rowProblems("upload-bad-rows", preview.rows) : null,
      preview.sample.length ? h("div", {}, h("h3", {}, `First ${preview.sample.length} contacts as they would be stored`),
        h("div", { class: "scroll" }, h("table", { id: "upload-sample" },
          h("thead", {}, h("tr", {}, sampleKeys.map((k) => h("th", {}, k)))),
          h("tbody", {}, preview.sample.map((c) => h("tr", {}, sampleKeys.map((k) => h("td", {}, c[k] ?? DASH)))))))) : null);
    const commit = $("upload-commit");
    commit.disabled = preview.valid === 0;
    commit.textContent = preview.invalid ? `Create batch of ${int(preview.valid)} (leave out ${int(preview.invalid)} bad rows)` : `Create batch of ${int(preview.valid)}`;
  };
  const create = async () => {
    if (!checked) return;
    const params = options();
    if (checked.preview.invalid) params.set("skip_invalid", "true");
    if (checked.fileName) params.set("file_name", checked.fileName);
    $("upload-commit").disabled = true;
    try {
      const created = await api(`${path("create", { campaign_id: checked.campaign })}?${params}`, { method: "POST", body: checked.csv, contentType: "text/csv" });
      toast(`Batch ${created.batch.batch_id} created with ${int(created.batch.total_contacts)} contacts`);
      location.hash = `#/batches/${encodeURIComponent(created.batch.batch_id)}`;
    } catch (error) {
      $("upload-commit").disabled = false;
      toast(`Not created: ${error.message}`, true);
    }
  };
  const reset = () => {
    checked = null;
    $("upload-commit").disabled = true;
    fill("upload-preview");
  };
  fill("upload-body",
    h("div", { class: "row" },
      h("div", {}, h("label", { for: "upload-campaign" }, "Campaign"), h("select", { id: "upload-campaign", onchange: reset }, campaigns.map((c) => h("option", { value: c.id }, c.id)))),
      h("div", {}, h("label", { for: "upload-file" }, "CSV file"), h("input", { id: "upload-file", type: "file", accept: ".csv,text/csv", onchange: reset })),
      h("div", {}, h("label", { for: "upload-country" }, "Country of national numbers"), h("input", { id: "upload-country", size: 4, placeholder: "US", onchange: reset }))),
    h("div", { class: "row", id: "upload-hours" },
      h("div", {}, h("label", { for: "upload-hours-days" }, "Working hours: days (default: the campaign's window)"), h("input", { id: "upload-hours-days", size: 10, placeholder: "mon-fri", onchange: reset })),
      h("div", {}, h("label", { for: "upload-hours-start" }, "from"), h("input", { id: "upload-hours-start", size: 5, placeholder: "09:00", onchange: reset })),
      h("div", {}, h("label", { for: "upload-hours-end" }, "to"), h("input", { id: "upload-hours-end", size: 5, placeholder: "17:00", onchange: reset }))),
    pluginInputs("upload-retry", "Retry plugin", { plugin: "retry-schedule", config: "busy=5m, 5m; no_answer=1h" }, reset),
    pluginInputs("upload-gate", "Dial gate plugin", { plugin: "gate-hours", config: "hours=US=09:00-20:00" }, reset),
    h("label", { for: "upload-text" }, "or paste rows (a header line first: phone, name, ...)"),
    h("textarea", { id: "upload-text", oninput: reset, placeholder: "phone,name\n+12125550100,Ada" }),
    h("div", { class: "row" },
      h("button", { id: "upload-validate", type: "button", onclick: () => validate().catch((e) => toast(e.message, true)) }, "Validate"),
      h("button", { id: "upload-commit", type: "button", disabled: true, onclick: create }, "Create batch")),
    h("div", { id: "upload-preview" }));
}

// A plugin a batch may set for itself, as two inputs `${id}-plugin` and
// `${id}-config`: left empty, the campaign's applies.
function pluginInputs(id, label, examples, onchange) {
  return h("div", { class: "row", id },
    h("div", {}, h("label", { for: `${id}-plugin` }, `${label} (default: the campaign's)`), h("input", { id: `${id}-plugin`, size: 14, placeholder: examples.plugin, onchange })),
    h("div", {}, h("label", { for: `${id}-config` }, "its config, key=value; \u2026"), h("input", { id: `${id}-config`, size: 28, placeholder: examples.config, onchange })));
}

// The setting of `pluginInputs(id)` as the API reads it, `{plugin, config}`,
// or null when both are empty. Without a plugin it is the campaign's with
// the keys given set otherwise. A value may hold "=" ("hours=US=09:00-20:00"),
// so a pair splits at its first.
function pluginSetting(id) {
  const plugin = $(`${id}-plugin`).value.trim();
  const config = {};
  for (const pair of $(`${id}-config`).value.split(/[;\n]/)) {
    if (!pair.trim()) continue;
    const at = pair.indexOf("=");
    if (at < 0) config[pair.trim()] = "";
    else config[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  if (!plugin && !Object.keys(config).length) return null;
  return plugin ? { plugin, config } : { config };
}

// ---------------------------------------------------------------- suppression lists

// An input with its label, for the forms below.
function labelled(id, label, attrs) {
  return h("div", {}, h("label", { for: id }, label), h("input", { id, ...attrs }));
}

// The bad rows of an upload as a table. Both uploads answer with the same
// rows, so the operator reads a refused file the same way everywhere.
function rowProblems(id, rows, fieldLabel = "Column") {
  return h("div", { class: "scroll" }, h("table", { id },
    h("thead", {}, h("tr", {}, h("th", { class: "num" }, "Row"), h("th", {}, fieldLabel), h("th", {}, "Value"), h("th", {}, "Problem"))),
    h("tbody", {}, rows.map((r) => h("tr", { class: "bad-row", "data-row": r.row }, h("td", { class: "num" }, r.row), h("td", {}, r.field ?? DASH), h("td", {}, r.value ?? DASH), h("td", { class: "wrap" }, r.reason))))));
}

// An API error in one line: its message, then each bad row's own line, so
// the operator sees which field to fix.
function refusal(error) {
  const rows = error.body?.rows || [];
  return rows.length ? `${error.message}: ${rows.map((r) => r.message).join("; ")}` : error.message;
}

const listHash = (name) => `#/suppression/${encodeURIComponent(name)}`;
const kindOf = (list) => (list.blocks ? "blocking" : "informing");

// The workspace's suppression lists, a number checked against them, and
// one list opened: its entries a page at a time, one number added or taken
// off, or a file of them uploaded.
function suppressionPage(open) {
  fill("crumbs", h("a", { href: "#/" }, "Batches"), " / ", open ? [h("a", { href: "#/suppression" }, "Suppression lists"), " / ", open] : "Suppression lists");
  let stopped = false;
  const entries = { cursors: [null], index: 0, next: null };
  fill("view",
    h("div", { class: "grid two" },
      h("section", { class: "card", id: "panel-lists" },
        h("h2", {}, "Suppression lists"),
        h("p", { class: "muted" }, "A number on a blocking list is never dialed by any campaign of the workspace; an informing list only tells the dial gate."),
        h("div", { class: "scroll" }, h("table", { id: "lists" })),
        h("h3", {}, "New list"),
        h("form", { id: "list-create", onsubmit: (event) => createList(event).catch(fail) },
          h("div", { class: "row form-row" },
            labelled("list-name", "Name", { size: 16, placeholder: "litigators", required: true, autocomplete: "off" }),
            labelled("list-description", "Description (optional)", { size: 28 }),
            h("div", {}, h("label", { for: "list-kind" }, "Kind"),
              h("select", { id: "list-kind" }, h("option", { value: "blocking" }, "blocking: never dialed"), h("option", { value: "informing" }, "informing: told to the dial gate"))),
            h("button", { id: "list-create-button", type: "submit" }, "Create list"))),
        h("p", { id: "list-create-error", class: "error", role: "alert" })),
      h("section", { class: "card", id: "panel-check" },
        h("h2", {}, "Check a number"),
        h("form", { id: "check-form", onsubmit: (event) => checkNumber(event).catch(fail) },
          h("div", { class: "row form-row" },
            labelled("check-phone", "Phone number", { size: 16, placeholder: "+14155550100", required: true, autocomplete: "off" }),
            h("button", { id: "check-button", type: "submit" }, "Check"))),
        h("div", { id: "check-result", role: "status" }))),
    open ? h("section", { class: "card", id: "panel-list" },
      h("div", { class: "row spread" }, h("h2", {}, "List ", h("span", { id: "list-title" }, open)), h("span", { id: "list-kind-shown", class: "status" })),
      h("div", { id: "list-facts" }, h("p", { class: "muted" }, "Loading\u2026")),
      h("div", { class: "grid pair" },
        h("div", {},
          h("h3", {}, "Add a number"),
          h("form", { id: "entry-form", onsubmit: (event) => addEntry(event).catch(fail) },
            h("div", { class: "row form-row" },
              labelled("entry-phone", "Phone number", { size: 16, placeholder: "+14155550100", required: true, autocomplete: "off" }),
              labelled("entry-expires", "Expires (optional, UTC)", { size: 22, placeholder: "2027-01-01T00:00:00Z" }),
              labelled("entry-reason", "Reason (optional)", { size: 24, placeholder: "asked not to be called" }),
              h("button", { id: "entry-add", type: "submit" }, "Add"))),
          h("p", { id: "entry-error", class: "error", role: "alert" })),
        h("div", {},
          h("h3", {}, "Upload numbers"),
          h("p", { class: "muted" }, "A CSV file with a phone column (expires_at and reason optional), or a JSON array of entries. Nothing is written unless every row is good."),
          h("div", { class: "row form-row" },
            labelled("entries-file", "CSV or JSON file", { type: "file", accept: ".csv,.json,text/csv,application/json" }),
            labelled("entries-country", "Country of national numbers (add and upload)", { size: 4, placeholder: "US" }),
            h("button", { id: "entries-upload", type: "button", onclick: () => uploadEntries().catch(fail) }, "Upload")),
          h("div", { id: "entries-upload-result", role: "status" }))),
      h("h3", {}, "Entries"),
      h("div", { class: "scroll" }, h("table", { id: "entries" })),
      h("div", { class: "pager" },
        h("button", { id: "entries-prev", type: "button", class: "secondary", disabled: true, onclick: () => turn(-1) }, "Previous"),
        h("span", { id: "entries-page", class: "muted" }),
        h("button", { id: "entries-next", type: "button", class: "secondary", disabled: true, onclick: () => turn(1) }, "Next"))) : null);

  const fail = (error) => !stopped && toast(error.message, true);

  async function loadLists() {
    const { lists } = await api(PATHS.lists);
    if (stopped) return;
    fill("lists",
      h("thead", {}, h("tr", {}, h("th", {}, "List"), h("th", {}, "Kind"), h("th", { class: "num" }, "Entries"), h("th", {}, "Description"), h("th", {}, "Created"))),
      h("tbody", {}, lists.map((list) => h("tr", { class: `clickable${list.name === open ? " selected" : ""}`, "data-list": list.name, onclick: () => (location.hash = listHash(list.name)) },
        h("td", {}, h("a", { class: "list-link", href: listHash(list.name) }, list.name)),
        h("td", { class: list.blocks ? "bad" : "" }, kindOf(list)),
        h("td", { class: "num" }, int(list.entries)),
        h("td", { class: "wrap" }, list.description ?? DASH),
        // dnc-internal exists before anything is written to it.
        h("td", {}, list.created_at ? when(list.created_at) : DASH)))));
  }

  async function loadList() {
    let list;
    try {
      list = await api(path("list", { list: open }));
    } catch (error) {
      if (stopped) return;
      if (error.status !== 404) throw error;
      fill("panel-list", h("h2", {}, "No such list"), h("p", { class: "error", role: "alert" }, error.message), h("a", { href: "#/suppression" }, "All lists"));
      return;
    }
    if (stopped) return;
    const kind = $("list-kind-shown");
    kind.textContent = kindOf(list);
    kind.className = `status ${list.blocks ? "cancelled" : "pending"}`;
    fill("list-facts", h("dl", { class: "facts" },
      h("dt", {}, "Kind"), h("dd", {}, list.blocks ? "blocking: its numbers are never dialed" : "informing: the dial gate is told, nothing is stopped"),
      h("dt", {}, "Entries"), h("dd", { id: "list-entries" }, int(list.entries)),
      h("dt", {}, "Description"), h("dd", {}, list.description ?? DASH)));
    await loadEntries();
  }

  function turn(step) {
    if (step > 0 && !entries.next) return;
    if (step > 0) entries.cursors[entries.index + 1] = entries.next;
    entries.index = Math.max(0, entries.index + step);
    loadEntries().catch(fail);
  }

  async function loadEntries() {
    const params = new URLSearchParams({ limit: PAGE_SIZE });
    const cursor = entries.cursors[entries.index];
    if (cursor) params.set("cursor", cursor);
    const page = await api(`${path("entries", { list: open })}?${params}`);
    if (stopped || !$("entries")) return;
    entries.next = page.next_cursor;
    fill("entries",
      h("thead", {}, h("tr", {}, ["Phone", "Added", "Expires", "Reason", "Added by"].map((t) => h("th", {}, t)), h("th", {}, h("span", { class: "muted" }, "Remove")))),
      h("tbody", {}, page.entries.length ? page.entries.map((e) => h("tr", { "data-phone": e.phone },
        h("td", {}, e.phone), h("td", {}, when(e.added_at)), h("td", {}, known(e.expires_at) ? when(e.expires_at) : "never"),
        h("td", { class: "wrap" }, e.reason ?? DASH), h("td", {}, e.added_by),
        removeCell(e.phone)))
        : h("tr", {}, h("td", { colspan: 6, class: "muted" }, entries.index ? "No more entries." : "The list is empty."))));
    $("entries-prev").disabled = entries.index === 0;
    $("entries-next").disabled = !entries.next;
    $("entries-page").textContent = `page ${entries.index + 1}, ${page.entries.length} shown`;
  }

  // After a change the counts and the page shown are read again.
  function reload() {
    loadLists().catch(fail);
    if (open) loadList().catch(fail);
  }

  // National numbers need their country; E.164 numbers need nothing.
  function countryQuery() {
    const country = $("entries-country").value.trim();
    return country ? `?${new URLSearchParams({ default_country: country })}` : "";
  }

  async function createList(event) {
    event.preventDefault();
    const body = { name: $("list-name").value.trim(), blocks: $("list-kind").value === "blocking" };
    const description = $("list-description").value.trim();
    if (description) body.description = description;
    fill("list-create-error");
    let list;
    try {
      list = await api(PATHS.lists, { method: "POST", body });
    } catch (error) {
      fill("list-create-error", `Not created: ${refusal(error)}`);
      return;
    }
    toast(`List ${list.name} created`);
    location.hash = listHash(list.name);
  }

  async function addEntry(event) {
    event.preventDefault();
    const entry = { phone: $("entry-phone").value.trim() };
    const expires = $("entry-expires").value.trim();
    if (expires) entry.expires_at = expires;
    const reason = $("entry-reason").value.trim();
    if (reason) entry.reason = reason;
    fill("entry-error");
    let answer;
    try {
      answer = await api(`${path("entries", { list: open })}${countryQuery()}`, { method: "POST", body: { entries: [entry] } });
    } catch (error) {
      fill("entry-error", `Not added: ${refusal(error)}`);
      return;
    }
    toast(answer.added ? `${entry.phone} added to ${open}` : `${entry.phone} updated on ${open}`);
    for (const id of ["entry-phone", "entry-expires", "entry-reason"]) $(id).value = "";
    reload();
  }

  // Taking a number off a blocking list lets every campaign dial it again,
  // so one click only asks; the question names the number and the list.
  function removeCell(phone) {
    const cell = h("td", { class: "remove-cell" });
    const offer = () => fill(cell,
      h("button", { type: "button", class: "secondary remove", "aria-label": `Remove ${phone}`, onclick: ask }, "Remove"));
    const ask = () => fill(cell,
      h("span", { class: "confirm" }, `Remove ${phone} from ${open}?`),
      h("button", { type: "button", class: "danger confirm-remove", onclick: () => removeEntry(phone).catch(fail) }, "Remove"),
      h("button", { type: "button", class: "secondary cancel-remove", onclick: offer }, "Cancel"));
    offer();
    return cell;
  }

  async function removeEntry(phone) {
    let answer;
    try {
      answer = await api(path("entry", { list: open, phone }), { method: "DELETE" });
    } catch (error) {
      toast(`Not removed: ${refusal(error)}`, true);
      return;
    }
    toast(answer.removed ? `${phone} taken off ${open}` : `${phone} was not on ${open}`);
    reload();
  }

  async function uploadEntries() {
    const file = $("entries-file").files[0];
    if (!file) {
      fill("entries-upload-result", h("p", { class: "error", id: "entries-upload-error" }, "Choose a CSV or JSON file first."));
      return;
    }
    const json = /\.json$/i.test(file.name) || file.type === "application/json";
    const body = await file.text();
    fill("entries-upload-result", h("p", { class: "muted" }, "Uploading\u2026"));
    let answer;
    try {
      answer = await api(`${path("entriesUpload", { list: open })}${countryQuery()}`, { method: "POST", body, contentType: json ? "application/json" : "text/csv" });
    } catch (error) {
      const rows = error.body?.rows || [];
      fill("entries-upload-result",
        h("p", { class: "error", id: "entries-upload-error", role: "alert" }, `${file.name} was refused: ${error.message}`),
        rows.length ? rowProblems("entries-bad-rows", rows, json ? "Field" : "Column") : null);
      return;
    }
    fill("entries-upload-result", h("p", { class: "good", id: "entries-upload-summary" }, `${file.name}: ${int(answer.added)} added, ${int(answer.updated)} updated.`));
    reload();
  }

  async function checkNumber(event) {
    event.preventDefault();
    const phone = $("check-phone").value.trim();
    let answer;
    try {
      answer = await api(path("suppressions", { phone }));
    } catch (error) {
      fill("check-result", h("p", { class: "error", id: "check-verdict", role: "alert" }, refusal(error)));
      return;
    }
    const verdict = answer.blocked
      ? `${answer.phone} is blocked: no campaign dials it.`
      : answer.lists.length ? `${answer.phone} is on informing lists only: it may be dialed.` : `${answer.phone} is on no list.`;
    fill("check-result",
      h("p", { id: "check-verdict", class: answer.blocked ? "bad" : "good" }, verdict),
      answer.lists.length ? h("table", { id: "check-lists" },
        h("thead", {}, h("tr", {}, h("th", {}, "List"), h("th", {}, "Kind"), h("th", {}, "Reason"))),
        h("tbody", {}, answer.lists.map((hit) => h("tr", { "data-list": hit.list },
          h("td", {}, h("a", { href: listHash(hit.list) }, hit.list)), h("td", {}, kindOf(hit)), h("td", { class: "wrap" }, hit.reason ?? DASH))))) : null);
  }

  loadLists().catch(fail);
  if (open) loadList().catch(fail);
  page = { stop() { stopped = true; } };
}

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function clockOf(minute) {
  return `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
}

// A batch's hours as an operator writes them: "Mon-Fri 09:00-17:00".
function describeHours(hours) {
  const rules = hours.calling_window.rules.map((rule) => {
    if (rule.kind === "cron") return `cron ${rule.expression}`;
    const days = rule.days.length === 7 ? "daily" : rule.days.map((d) => WEEKDAYS[d]).join(",");
    return `${days} ${clockOf(rule.start_minute)}-${clockOf(rule.end_minute)}`;
  });
  const zone = hours.time_zone_policy === "campaign" ? `in ${hours.default_time_zone}` : `on each contact's clock (else ${hours.default_time_zone})`;
  return `${rules.length ? rules.join("; ") : "any time"} ${zone}`;
}

// A plugin a batch sets for itself, with the config it is configured with.
function describePlugin(setting) {
  const keys = Object.entries(setting.config).map(([key, value]) => `${key}=${value}`);
  return `${setting.plugin}${keys.length ? ` (${keys.join("; ")})` : ""}`;
}

// ---------------------------------------------------------------- a batch

function panel(id, title, extra) {
  return h("section", { class: "card", id: `panel-${id}` }, h("div", { class: "row spread" }, h("h2", {}, title), extra || null), h("div", { id }, h("p", { class: "dash" }, DASH)));
}

function kpi(id, label) {
  return h("div", { class: "kpi", id: `kpi-${id}`, "data-kpi": id },
    h("div", { class: "label" }, label), h("div", { class: "value" }, DASH), h("div", { class: "sub" }), h("div", { class: "bar", hidden: true }, h("span")));
}

function setKpi(id, value, sub, barFraction, barClass) {
  const el = $(`kpi-${id}`);
  if (!el) return;
  el.querySelector(".value").textContent = value;
  el.querySelector(".sub").textContent = sub || "";
  const bar = el.querySelector(".bar");
  if (known(barFraction)) {
    bar.hidden = false;
    bar.className = `bar ${barClass || ""}`;
    bar.firstChild.style.width = `${Math.min(100, Math.max(0, barFraction * 100))}%`;
  } else {
    bar.hidden = true;
  }
}

function batchPage(batchId) {
  fill("crumbs", h("a", { href: "#/" }, "Batches"), " / ", batchId);
  const b = { id: batchId, batch: null, stats: null, debug: null, progress: null, feed: [], campaign: null, campaignBudget: null };
  const tasks = { cursors: [null], index: 0, next: null, rows: [], sort: null, desc: false, loadedAt: 0 };
  let stopped = false;
  let ended = false;
  const abort = new AbortController();

  fill("view",
    h("section", { class: "card", id: "batch-head" },
      h("div", { class: "row spread" },
        h("div", {}, h("h1", {}, "Batch ", h("span", { id: "batch-id" }, batchId), " ", h("span", { id: "batch-status", class: "status" }, "\u2026")),
          h("div", { class: "muted", id: "batch-meta" })),
        h("div", { class: "row" },
          h("button", { id: "btn-pause", type: "button", disabled: true, onclick: () => control("pause") }, "Pause"),
          h("button", { id: "btn-resume", type: "button", disabled: true, onclick: () => control("resume") }, "Resume"),
          h("button", { id: "btn-dispatch", type: "button", class: "secondary", disabled: true, onclick: () => control("dispatch") }, "Force dispatch"),
          h("button", { id: "btn-cancel", type: "button", class: "danger", disabled: true, onclick: cancelClicked }, "Cancel"),
          h("button", { id: "btn-export", type: "button", class: "secondary", onclick: exportCsv }, "Export CSV"),
          h("button", { id: "btn-attempts", type: "button", class: "secondary", onclick: () => download("attemptsCsv", `${batchId}-attempts.csv`) }, "Attempts CSV"),
          h("button", { id: "btn-transcripts", type: "button", class: "secondary", onclick: () => download("transcripts", `${batchId}-transcripts.jsonl`) }, "Transcripts"))),
      h("div", { id: "batch-banner", class: "banner", hidden: true }),
      h("div", { id: "upload-card", class: "upload-card muted", hidden: true }),
      h("div", { id: "batch-own", class: "upload-card muted", hidden: true })),
    h("div", { class: "kpis", id: "kpis" },
      kpi("progress", "Progress"), kpi("live", "Live calls"), kpi("attempts", "Attempts"), kpi("answer-rate", "Answer rate"),
      kpi("duration", "Average duration"), kpi("cost", "Total cost"), kpi("budget", "Budget"), kpi("goal", "Goal"),
      kpi("rate", "Calls per second"), kpi("eta", "Time remaining")),
    h("section", { class: "card", id: "panel-statuses" }, h("h2", {}, "Contacts by status"), h("div", { id: "statuses", class: "chips" })),
    // Panels holding wide tables (calling windows, variants, number pool)
    // get half the page, so a 1,440-pixel window shows every column.
    h("div", { class: "grid pair" },
      panel("timeline", "Timeline per minute", h("div", { class: "legend" }, ["attempts", "answers", "failures"].map((k) => h("span", {}, h("i", { class: k }), k)))),
      panel("health", "Dispatch and queue health")),
    h("div", { class: "grid" }, panel("dispositions", "Dispositions"), panel("sentiment", "Sentiment"), panel("retries", "Retry effectiveness"), panel("costs", "Cost")),
    h("div", { class: "grid pair" }, panel("variants", "A/B variants"), panel("numbers", "Number pool")),
    h("div", { class: "grid" }, panel("recent", "Recent calls"), panel("feed", "Activity")),
    h("section", { class: "card", id: "panel-tasks" },
      h("div", { class: "row spread" }, h("h2", {}, "Contacts"),
        h("div", { class: "row" },
          h("label", { for: "filter-status" }, "Status"), h("select", { id: "filter-status", onchange: () => resetTasks() }, h("option", { value: "" }, "any")),
          h("label", { for: "filter-blocker" }, "Blocker"), h("select", { id: "filter-blocker", onchange: () => resetTasks() }, h("option", { value: "" }, "any")),
          h("label", { for: "filter-disposition" }, "Disposition"), h("input", { id: "filter-disposition", size: 12, onchange: () => resetTasks() }),
          h("label", { for: "tasks-follow" }, "Follow"), h("input", { id: "tasks-follow", type: "checkbox", checked: true }))),
      h("div", { class: "scroll" }, h("table", { id: "tasks" })),
      h("div", { class: "pager" },
        h("button", { id: "tasks-prev", type: "button", class: "secondary", disabled: true, onclick: () => turnTasks(-1) }, "Previous"),
        h("span", { id: "tasks-page", class: "muted" }),
        h("button", { id: "tasks-next", type: "button", class: "secondary", disabled: true, onclick: () => turnTasks(1) }, "Next"),
        h("span", { class: "muted" }, "Sorting orders the page shown; pages follow upload order."))),
  );

  // ---- loading

  const fail = (error) => {
    if (stopped) return;
    if (error.status === 404) fill("view", h("section", { class: "card narrow" }, h("h1", {}, "No such batch"), h("p", {}, error.message), h("a", { href: "#/" }, "All batches")));
    else toast(error.message, true);
  };

  async function refresh() {
    const [batch, stats, debug] = await Promise.all([
      api(path("batch", { batch_id: batchId })),
      api(path("stats", { batch_id: batchId })),
      api(path("debug", { batch_id: batchId })),
    ]);
    if (stopped) return;
    b.batch = batch;
    b.stats = stats;
    b.debug = debug;
    if (!find(stats, "budgets", isArray) && !find(debug, "budgets", isArray)) await campaignBudget(batch.campaign_id);
    if (stopped) return;
    renderAll();
    if ($("tasks-follow").checked && Date.now() - tasks.loadedAt > 3000) loadTasks().catch(fail);
  }

  let refreshTimer = null;
  function soon() {
    if (refreshTimer || stopped) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      refresh().catch(fail);
    }, 600);
  }

  // Without budget figures from the server, the campaign's own budget is
  // measured against the campaign's spending, both read from the API.
  async function campaignBudget(campaignId) {
    b.campaign = b.campaign || (await api(path("campaign", { campaign_id: campaignId })));
    if (!known(b.campaign.budget_micros)) return;
    const spent = (await api(path("campaignStats", { campaign_id: campaignId }))).cost_micros;
    b.campaignBudget = [{ scope: "campaign", limit_micros: b.campaign.budget_micros, spent_micros: spent, exhausted: spent >= b.campaign.budget_micros }];
  }

  function budgetsOf() {
    return find(b.stats, "budgets", isArray) ?? find(b.debug, "budgets", isArray) ?? b.campaignBudget;
  }

  function renderAll() {
    renderHead();
    renderKpis();
    renderStatuses();
    renderTimeline();
    renderHealth();
    renderDispositions();
    renderSentiment();
    renderRetries();
    renderVariants();
    renderCosts();
    renderNumbers();
    renderFilters();
  }

  // ---- panels

  function renderHead() {
    const batch = b.batch;
    const status = $("batch-status");
    status.textContent = batch.status;
    status.className = `status ${batch.status}`;
    fill("batch-meta",
      `campaign ${batch.campaign_id} \u00b7 created ${when(batch.created_at)} by ${batch.created_by}`,
      batch.started_at ? ` \u00b7 started ${when(batch.started_at)}` : "",
      batch.completed_at ? ` \u00b7 ended ${when(batch.completed_at)}` : "",
      batch.status_reason ? ` \u00b7 ${batch.status} by ${batch.status_by}: ${batch.status_reason}` : "");
    renderBanner(batch);
    renderUploadCard(batch.upload);
    renderOwnSettings(batch);
    const final = FINAL_BATCH.includes(batch.status);
    $("btn-pause").disabled = !["pending", "in_progress"].includes(batch.status);
    $("btn-resume").disabled = batch.status !== "paused";
    $("btn-dispatch").disabled = !["pending", "in_progress"].includes(batch.status);
    $("btn-cancel").disabled = final;
  }

  // Why a batch stopped, or is held, and the way out, as the monitoring
  // guide asks: a paused batch shows when, by whom and why.
  function bannerOf(batch) {
    const reason = batch.status_reason || "";
    const held = (blocker) => batch.counters?.by_blocker?.[blocker] || 0;
    if (batch.status === "paused") {
      const wayOut = reason === "plugin_faulted"
        ? "Resume after fixing the plugin: its faults are in Queue health."
        : reason.startsWith("store_error")
          ? "Resume once the store accepts writes again."
          : "Resume to dial again.";
      return { kind: "paused", text: `Paused ${when(batch.status_at)} by ${batch.status_by}${reason ? `: ${reason}` : ""}.`, wayOut };
    }
    if (batch.status === "completed" && reason === "goal_reached") {
      return { kind: "done", text: `Completed ${when(batch.status_at)}: the goal was reached and the contacts left were skipped.`, wayOut: "" };
    }
    if (!FINAL_BATCH.includes(batch.status) && held("budget_exhausted") > 0) {
      return { kind: "held", text: `Budget exhausted: ${int(held("budget_exhausted"))} contacts wait.`, wayOut: "Raise the budget in the config, or cancel the batch." };
    }
    if (!FINAL_BATCH.includes(batch.status) && held("goal_reached") > 0) {
      return { kind: "held", text: `Goal reached: ${int(held("goal_reached"))} contacts are no longer needed.`, wayOut: "" };
    }
    return null;
  }

  // Where a CSV batch's contacts came from, as the monitoring guide's
  // metadata card shows a staged upload.
  function renderUploadCard(upload) {
    const el = $("upload-card");
    el.hidden = !upload;
    if (!upload) return fill(el);
    const skipped = upload.skipped_rows.length
      ? ` (row${upload.skipped_rows.length === 1 ? "" : "s"} ${upload.skipped_rows.join(", ")}${upload.invalid > upload.skipped_rows.length ? ", \u2026" : ""} left out)`
      : "";
    fill(el,
      h("strong", {}, upload.file_name ?? "CSV upload"), ` \u00b7 ${int(upload.bytes)} bytes \u00b7 ${int(upload.rows)} rows: `,
      h("span", { class: "good" }, `${int(upload.valid)} valid`), ", ",
      h("span", { class: upload.invalid ? "bad" : "" }, `${int(upload.invalid)} invalid`), skipped,
      ` \u00b7 uploaded by ${upload.uploaded_by} ${when(upload.uploaded_at)}`);
  }

  // What the batch sets for itself in place of its campaign's.
  function renderOwnSettings(batch) {
    const el = $("batch-own");
    const own = [];
    if (batch.hours) own.push(h("span", { id: "batch-own-hours" }, `Own working hours: ${describeHours(batch.hours)}`));
    if (batch.retry) own.push(h("span", { id: "batch-own-retry" }, `Own retry strategy: ${describePlugin(batch.retry)}`));
    if (batch.gate) own.push(h("span", { id: "batch-own-gate" }, `Own dial gate: ${describePlugin(batch.gate)}`));
    el.hidden = !own.length;
    fill(el, own.flatMap((item, i) => (i ? [" \u00b7 ", item] : [item])));
  }

  function renderBanner(batch) {
    const el = $("batch-banner");
    const banner = bannerOf(batch);
    el.hidden = !banner;
    el.className = `banner ${banner?.kind ?? ""}`;
    fill(el, banner ? [h("strong", {}, banner.text), banner.wayOut ? ` ${banner.wayOut}` : ""] : []);
  }

  function renderKpis() {
    const c = b.batch.counters;
    const st = b.stats || {};
    const p = b.progress;
    const total = p ? p.total : c.total;
    const finished = p ? total - p.waiting - p.active : c.finished;
    setKpi("progress", pct(ratio(finished, total) * 100), `${int(finished)} of ${int(total)} final`, ratio(finished, total));
    setKpi("live", int(p ? p.active : c.live), `${int(p ? p.waiting : c.waiting)} waiting`);
    setKpi("attempts", int(c.attempts), `${int(c.answered)} answered \u00b7 ${int(c.system_retries)} refused before dialing`);
    setKpi("answer-rate", pct(c.answer_rate), `${int(c.answered)} of ${int(c.ended)} ended`, c.ended ? c.answer_rate / 100 : null, "good");
    const avg = find(st, "average_call_duration") ?? find(st, "average_duration_seconds") ?? p?.averageCallDuration;
    setKpi("duration", secs(avg), "talk time of answered calls");
    setKpi("cost", money(c.cost_micros), c.attempts ? `${money(c.cost_micros / c.attempts)} per attempt` : "");
    const budgets = budgetsOf();
    if (budgets && budgets.length) {
      const tight = budgets.reduce((a, x) => (ratio(x.spent_micros, x.limit_micros) > ratio(a.spent_micros, a.limit_micros) ? x : a));
      setKpi("budget", pct(ratio(tight.spent_micros, tight.limit_micros) * 100, 0), `${money(tight.spent_micros)} of ${money(tight.limit_micros)} (${tight.scope})${tight.exhausted ? " \u00b7 exhausted" : ""}`, ratio(tight.spent_micros, tight.limit_micros), tight.exhausted ? "bad" : "");
    } else {
      setKpi("budget", DASH, "no budget reported");
    }
    const goals = find(st, "goals", isArray) ?? find(b.debug, "goals", isArray);
    if (goals && goals.length) {
      const g = goals[0];
      setKpi("goal", `${int(g.reached)} / ${int(g.target)}`, `${(g.success_labels || []).join(", ")} (${g.scope})${g.met ? " \u00b7 met" : ""}`, ratio(g.reached, g.target), "good");
    } else {
      setKpi("goal", DASH, "no goal reported");
    }
    const rate = find(b.debug, "current") ?? find(st, "calls_per_second") ?? find(st, "callsPerSecond");
    setKpi("rate", fixed(rate, 1), `effective limit ${fixed(effectiveRate(), 1)}`);
    const eta = find(st, "estimatedTimeRemaining") ?? find(st, "estimated_time_remaining");
    const elapsed = find(st, "elapsedTime");
    setKpi("eta", duration(eta), known(elapsed) ? `${duration(elapsed)} elapsed (campaign time)` : "");
  }

  function effectiveRate() {
    const d = b.debug || {};
    return d.effective?.calls_per_second ?? (isObject(d.rate) ? d.rate.effective : undefined);
  }

  function renderStatuses() {
    const by = b.batch.counters.by_status;
    fill("statuses", Object.entries(by).map(([name, count]) =>
      h("span", { class: "chip", "data-status": name }, `${name.replaceAll("_", " ")} `, h("b", {}, int(count)))));
  }

  function renderTimeline() {
    const timeline = find(b.stats, "timeline", isArray);
    if (!timeline || !timeline.length) {
      fill("timeline", h("p", { class: "dash" }, DASH, " no per-minute timeline reported"));
      return;
    }
    const width = 800;
    const height = 190;
    const left = 40;
    const bottom = 20;
    const points = timeline.slice(-240);
    const max = Math.max(1, ...points.map((m) => Math.max(m.attempts || 0, m.answers || 0, m.failures || 0)));
    const x = (i) => left + (points.length === 1 ? 0 : (i * (width - left - 10)) / (points.length - 1));
    const y = (v) => height - bottom - ((v || 0) * (height - bottom - 10)) / max;
    const line = (key) => s("polyline", { class: key, fill: "none", "stroke-width": 2, points: points.map((m, i) => `${x(i).toFixed(1)},${y(m[key]).toFixed(1)}`).join(" ") });
    fill("timeline", h("div", { class: "chart" },
      s("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img", "aria-label": "attempts, answers and failures per minute" },
        s("line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }),
        s("line", { class: "axis", x1: left, y1: 10, x2: left, y2: height - bottom }),
        s("text", { x: 2, y: 14 }, int(max)),
        s("text", { x: 2, y: height - bottom }, "0"),
        s("text", { x: left, y: height - 4 }, minuteLabel(points[0].minute)),
        s("text", { x: width - 40, y: height - 4 }, minuteLabel(points[points.length - 1].minute)),
        line("attempts"), line("answers"), line("failures"))),
      h("p", { class: "muted" }, `${points.length} minutes shown (campaign time, UTC); peak ${int(max)} per minute`));
  }

  function renderHealth() {
    const d = b.debug;
    if (!d) return;
    const conc = isObject(d.concurrency) ? d.concurrency : null;
    const effective = d.effective || {};
    const live = d.live_calls ?? conc?.live_in_batch ?? d.live;
    const free = d.free_slots ?? conc?.free;
    const blockers = (d.blockers || []).map((x) => [x.blocker, x.count]);
    const held = blockers.filter(([, n]) => n > 0);
    const throttle = d.provider_throttle || {};
    const provider = d.provider || {};
    const throttled = throttle.throttled_calls ?? provider.throttled_contacts;
    const until = throttle.until ?? provider.throttled_until;
    const plugins = d.plugins || {};
    const faults = isObject(d.plugin_faults) ? d.plugin_faults : {};
    const dialing = d.dialing ?? (d.status === "in_progress" && !d.batch_blocker);
    const pool = isObject(d.numbers) ? d.numbers : null;
    fill("health",
      h("p", { id: "health-verdict", class: dialing ? "good" : "warn" },
        dialing ? "Dialing." : `Not dialing: ${(d.batch_blocker || d.status_reason || d.status || "").replaceAll("_", " ")}.`),
      h("dl", { class: "facts" },
        h("dt", {}, "Concurrency"), h("dd", {}, `${int(live)} live of ${int(effective.concurrency ?? conc?.effective)} (${effective.concurrency_from ?? (conc?.batch_limit ? "batch" : "campaign")}), ${int(free)} free`),
        h("dt", {}, "Rate"), h("dd", {}, `${fixed(effectiveRate(), 1)} calls/s allowed (${effective.calls_per_second_from ?? (d.rate?.batch_limit ? "batch" : "campaign")})${isObject(d.rate) ? `, ${fixed(d.rate.current, 1)} now` : ""}`),
        h("dt", {}, "Max attempts"), h("dd", {}, `${int(effective.max_attempts ?? find(d, "max_attempts"))} + ${int(effective.max_followups)} follow-up${effective.max_followups === 1 ? "" : "s"} if asked`),
        h("dt", {}, "Throttling"), h("dd", { id: "health-throttle", class: throttled ? "warn" : "" }, throttled ? `${int(throttled)} held by the provider${until ? ` until ${when(until)}` : ""}` : "none"),
        h("dt", {}, "Refused before dialing"), h("dd", {}, int(provider.system_retries ?? b.batch.counters.system_retries)),
        h("dt", {}, "Plugin faults"), h("dd", { class: (plugins.faults ?? faults.total) ? "warn" : "" }, `${int(plugins.faults ?? faults.total)} total, ${int(plugins.consecutive_faults ?? faults.consecutive)} in a row (pauses at ${int(plugins.pause_after ?? faults.pause_after)})`),
        h("dt", {}, "Number pool"), h("dd", {}, pool ? `${int(pool.usable)} of ${int(pool.size)} usable` : DASH),
        h("dt", {}, "Next eligible"), h("dd", {}, when(d.next_eligible_at))),
      h("h3", {}, "Compliance"),
      complianceFacts(find(d, "compliance", isObject)),
      h("h3", {}, "Blockers"),
      held.length
        ? h("div", { class: "chips", id: "health-blockers" }, held.map(([name, n]) => h("span", { class: "chip", "data-blocker": name }, `${name.replaceAll("_", " ")} `, h("b", {}, int(n)))))
        : h("p", { class: "muted", id: "health-blockers" }, "No waiting contact is held."),
      h("h3", {}, "Calling windows"),
      h("div", { class: "scroll" }, h("table", { id: "health-windows" },
        h("thead", {}, h("tr", {}, h("th", {}, "Time zone"), h("th", {}, "Now"), h("th", {}, "Next change"))),
        h("tbody", {}, (d.windows || []).map((w) => {
          const change = w.open ? w.closes_at : w.next_open;
          return h("tr", {}, h("td", {}, w.time_zone), h("td", { class: w.open ? "good" : "warn" }, w.open ? "open" : "closed"),
            h("td", { class: "wrap" }, change ? `${w.open ? "closes" : "opens"} ${when(change)}` : DASH));
        })))));
  }

  // What the checks before every dial hold back: blocking lists, frequency
  // caps and the dial gate. A zero reads "none", so a quiet batch is seen
  // to be checked, not left unreported.
  function complianceFacts(c) {
    if (!isObject(c)) return h("p", { class: "dash", id: "health-compliance" }, DASH, " no compliance figures reported");
    const count = (n, text) => (n ? `${int(n)} ${text}` : "none");
    const reasons = c.gate_deferred_reasons || [];
    return h("dl", { class: "facts", id: "health-compliance" },
      h("dt", {}, "Suppressed"), h("dd", { id: "health-suppressed", class: c.suppressed ? "warn" : "" }, count(c.suppressed, "skipped, on a blocking list")),
      h("dt", {}, "Frequency capped"), h("dd", { id: "health-capped", class: c.frequency_capped ? "warn" : "" },
        count(c.frequency_capped, "waiting"), c.frequency_capped && known(c.frequency_capped_free_at) ? h("span", { id: "health-capped-free" }, `, the first free again ${when(c.frequency_capped_free_at)}`) : null),
      h("dt", {}, "Dial gate"), h("dd", { id: "health-gate" }, c.gate_plugin ? `${c.gate_plugin}${c.gate_from === "batch" ? " (the batch's own)" : ""}` : "none"),
      h("dt", {}, "Gate deferred"), h("dd", { id: "health-deferred", class: c.gate_deferred ? "warn" : "" }, count(c.gate_deferred, "waiting"),
        // The reasons are read from the next due contacts only.
        reasons.length ? h("ul", { class: "reasons", id: "health-deferred-reasons", title: "most frequent first, among the next 512 due contacts" },
          reasons.map((r) => h("li", { "data-reason": r.reason }, h("b", {}, int(r.count)), " ", r.reason))) : null),
      h("dt", {}, "Gate skipped"), h("dd", { id: "health-gate-skipped" }, count(c.gate_skipped, "skipped by the gate")));
  }

  function bars(rows, total) {
    return rows.map(([name, count]) => h("div", { class: "hbar" },
      h("span", { class: "name", title: name }, name),
      h("span", { class: "track" }, (() => { const bar = h("span"); bar.style.width = `${(ratio(count, total) || 0) * 100}%`; return bar; })()),
      h("span", { class: "num" }, int(count))));
  }

  function renderDispositions() {
    const list = find(b.stats, "dispositions", isArray);
    if (!list || !list.length) {
      fill("dispositions", h("p", { class: "dash" }, DASH, " no dispositions reported"));
      return;
    }
    const rows = list.map((x) => [x.label, x.count]).sort((a, z) => z[1] - a[1]);
    const total = rows.reduce((sum, [, n]) => sum + n, 0);
    fill("dispositions", bars(rows, total), h("p", { class: "muted" }, `${int(total)} classified attempts`));
  }

  function renderSentiment() {
    const value = find(b.stats, "average_sentiment");
    if (!known(value)) {
      fill("sentiment", h("p", { class: "dash" }, DASH, " no sentiment reported"));
      return;
    }
    const mark = h("span");
    mark.style.left = `calc(${((value + 1) / 2) * 100}% - 2px)`;
    fill("sentiment",
      h("div", { class: "kpi" }, h("div", { class: "label" }, "Average sentiment (\u22121 to 1)"), h("div", { class: "value", id: "sentiment-value" }, fixed(value, 2))),
      h("div", { class: "gauge" }, mark),
      h("div", { class: "row spread muted" }, h("span", {}, "negative"), h("span", {}, "neutral"), h("span", {}, "positive")));
  }

  function renderRetries() {
    const r = find(b.stats, "retries", isObject);
    if (!r) {
      fill("retries", h("p", { class: "dash" }, DASH, " no retry figures reported"));
      return;
    }
    fill("retries",
      h("p", {}, `${int(r.successes)} successes, `, h("b", {}, int(r.successes_from_retries)), ` from retries (${pct(ratio(r.successes_from_retries, r.successes) * 100, 0)})`),
      h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Dial"), h("th", { class: "num" }, "Attempts"), h("th", { class: "num" }, "Successes"), h("th", { class: "num" }, "Success rate"))),
        h("tbody", {}, (r.by_attempt || []).map((a, i, all) => h("tr", {}, h("td", {}, i === all.length - 1 && all.length > 1 ? `${a.attempt}+` : a.attempt), h("td", { class: "num" }, int(a.attempts)), h("td", { class: "num" }, int(a.successes)), h("td", { class: "num" }, ratioPct(a.success_rate)))))));
  }

  function renderVariants() {
    const list = find(b.stats, "variants", isArray);
    if (!list || !list.length) {
      fill("variants", h("p", { class: "dash" }, DASH, " no A/B variants reported"));
      return;
    }
    const best = list.reduce((a, v) => (v.success_rate > a.success_rate ? v : a));
    fill("variants", h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Variant"), ["Weight", "Attempts", "Answer rate", "Success rate", "Avg duration", "Cost/success"].map((t) => h("th", { class: "num" }, t)))),
      h("tbody", {}, list.map((v) => h("tr", {},
        h("td", {}, v.name, v === best && list.length > 1 && v.successes ? h("span", { class: "good" }, " \u2605") : null),
        h("td", { class: "num" }, int(v.weight)), h("td", { class: "num" }, int(v.attempts)), h("td", { class: "num" }, ratioPct(v.answer_rate)),
        h("td", { class: "num" }, ratioPct(v.success_rate)), h("td", { class: "num" }, secs(v.average_duration_seconds)), h("td", { class: "num" }, known(v.cost_per_success) ? v.cost_per_success.toFixed(2) : DASH)))))));
  }

  function renderCosts() {
    const c = b.batch.counters;
    const succeeded = c.by_status?.completed ?? 0;
    const budgets = budgetsOf() ?? [];
    const talkMinutes = c.talk_ms / 60000;
    fill("costs", h("dl", { class: "facts" },
      h("dt", {}, "Total"), h("dd", { id: "cost-total" }, money(c.cost_micros)),
      h("dt", {}, "Per attempt"), h("dd", {}, c.attempts ? money(c.cost_micros / c.attempts) : DASH),
      h("dt", {}, "Per answered call"), h("dd", {}, c.answered ? money(c.cost_micros / c.answered) : DASH),
      h("dt", {}, "Per completed contact"), h("dd", {}, succeeded ? money(c.cost_micros / succeeded) : DASH),
      h("dt", {}, "Per talk minute"), h("dd", {}, talkMinutes >= 0.01 ? money(c.cost_micros / talkMinutes) : DASH),
      h("dt", {}, "Talk time"), h("dd", {}, duration(c.talk_ms / 1000)),
      budgets.length ? budgets.map((x) => [h("dt", {}, `Budget (${x.scope})`), h("dd", { class: x.exhausted ? "bad" : "" }, `${money(x.spent_micros)} of ${money(x.limit_micros)}${x.exhausted ? ", exhausted" : ""}`)]) : [h("dt", {}, "Budget"), h("dd", {}, DASH)]));
  }

  function renderNumbers() {
    const list = find(b.stats, "numbers", isArray);
    if (!list || !list.length) {
      fill("numbers", h("p", { class: "dash" }, DASH, " no number pool reported"));
      return;
    }
    fill("numbers", h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "From"), h("th", {}, "State"), ["Weight", "Attempts", "Answer", "Busy", "No answer", "Failed"].map((t) => h("th", { class: "num" }, t)))),
      h("tbody", {}, list.map((n) => h("tr", {},
        h("td", {}, n.number),
        h("td", { class: n.usable ? "good" : "warn wrap" }, n.usable ? "in rotation" : !n.enabled ? "disabled" : n.rested_until ? `rested until ${when(n.rested_until)}` : "out"),
        h("td", { class: "num" }, int(n.weight)), h("td", { class: "num" }, int(n.attempts)), h("td", { class: "num" }, ratioPct(n.answer_rate)),
        h("td", { class: "num" }, ratioPct(n.busy_rate)), h("td", { class: "num" }, ratioPct(n.no_answer_rate)), h("td", { class: "num" }, ratioPct(n.failure_rate))))))));
  }

  function renderRecent() {
    const calls = b.progress?.recent_calls || [];
    fill("recent", calls.length ? h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Ended"), h("th", {}, "Contact"), h("th", {}, "Outcome"), h("th", {}, "Disposition"), h("th", { class: "num" }, "Talk"), h("th", {}, "Status"))),
      h("tbody", {}, calls.map((call) => h("tr", {}, h("td", {}, minuteLabel(call.completedAt ?? call.failedAt)), h("td", {}, call.contact_id), h("td", {}, call.status === "completed" ? "answered" : call.error ?? DASH), h("td", {}, call.disposition ?? DASH), h("td", { class: "num" }, secs(call.duration)), h("td", {}, call.status)))))
      : h("p", { class: "dash" }, DASH, " no call has ended yet"));
  }

  function note(kind, text, at) {
    b.feed.unshift({ kind, text, at });
    b.feed.length = Math.min(b.feed.length, 200);
    fill("feed", h("ul", { class: "feed" }, b.feed.slice(0, 60).map((e) => h("li", {}, h("span", { class: "muted" }, known(e.at) ? `${minuteLabel(e.at)} ` : ""), h("b", {}, e.kind), " ", e.text))));
  }

  function renderFilters() {
    const c = b.batch.counters;
    for (const [id, names] of [["filter-status", Object.keys(c.by_status)], ["filter-blocker", Object.keys(c.by_blocker)]]) {
      const select = $(id);
      if (select.options.length > 1) continue;
      select.append(...names.map((n) => h("option", { value: n }, n)));
    }
    // Every blocker is offered, gate_deferred and frequency_capped among
    // them, each with how many contacts it holds now.
    for (const option of $("filter-blocker").options) {
      if (option.value) option.textContent = `${option.value} (${int(c.by_blocker[option.value] ?? 0)})`;
    }
  }

  // ---- the tasks table

  const columns = [
    ["seq", "#", (x) => x.seq, true],
    ["contact_id", "Contact", (x) => x.contact_id],
    ["phone", "Phone", (x) => x.phone],
    ["name", "Name", (x) => x.name],
    ["status", "Status", (x) => x.status],
    ["blocker", "Blocker", (x) => x.effective_blocker, false, blockerCell],
    ["attempts", "Attempts", (x) => x.attempts_made + (x.followups_made || 0), true, (_, x) => dials(x)],
    ["system_retries", "Sys. retries", (x) => x.system_retries, true, (v) => int(v)],
    ["outcome", "Last outcome", (x) => x.last_outcome],
    ["disposition", "Disposition", (x) => x.last_disposition],
    ["score", "Score", (x) => x.last_score, true, (v) => fixed(v, 2)],
    ["talk", "Talk", (x) => x.total_talk_ms, true, (v) => secs(v / 1000)],
    ["last", "Last attempted", (x) => x.last_attempt_at, false, when],
    ["cost", "Cost", (x) => x.total_cost_micros, true, money],
    ["from", "From", (x) => x.from_number],
    ["variant", "Variant", (x) => x.variant],
    ["next", "Next try", (x) => x.next_eligible_at, false, when],
  ];

  // The blocker with its reason beneath: a gate's deferral, the cap reached,
  // or why a skipped contact was skipped ("suppressed:dnc-internal").
  function blockerCell(blocker, x) {
    const why = x.blocker_reason ?? (x.status === "skipped" ? x.final_reason : null);
    return [known(blocker) ? blocker.replaceAll("_", " ") : why ? null : DASH, why ? h("div", { class: "why muted" }, why) : null];
  }

  // "2/3", or "3/3 + 1/1 follow-up" once a follow-up past the attempts was dialed.
  function dials(x) {
    const limit = (n) => (known(n) ? `/${n}` : "");
    const attempts = `${int(x.attempts_made)}${limit(x.max_attempts)}`;
    if (!x.followups_made) return attempts;
    return `${attempts} + ${int(x.followups_made)}${limit(x.max_followups)} follow-up${x.followups_made === 1 ? "" : "s"}`;
  }

  function resetTasks() {
    tasks.cursors = [null];
    tasks.index = 0;
    loadTasks().catch(fail);
  }

  function turnTasks(step) {
    if (step > 0 && !tasks.next) return;
    if (step > 0) tasks.cursors[tasks.index + 1] = tasks.next;
    tasks.index = Math.max(0, tasks.index + step);
    loadTasks().catch(fail);
  }

  async function loadTasks() {
    const params = new URLSearchParams({ limit: PAGE_SIZE });
    for (const [param, id] of [["status", "filter-status"], ["blocker", "filter-blocker"], ["disposition", "filter-disposition"]]) {
      const value = $(id).value.trim();
      if (value) params.set(param, value);
    }
    const cursor = tasks.cursors[tasks.index];
    if (cursor) params.set("cursor", cursor);
    tasks.loadedAt = Date.now();
    const page = await api(`${path("contacts", { batch_id: batchId })}?${params}`);
    if (stopped) return;
    tasks.rows = page.contacts;
    tasks.next = page.next_cursor;
    renderTasks();
  }

  function renderTasks() {
    const rows = tasks.rows.slice();
    if (tasks.sort) {
      const column = columns.find((c) => c[0] === tasks.sort);
      rows.sort((a, z) => {
        const x = column[2](a);
        const y = column[2](z);
        const order = x === y ? 0 : x === null || x === undefined ? 1 : y === null || y === undefined ? -1 : x < y ? -1 : 1;
        return tasks.desc ? -order : order;
      });
    }
    fill("tasks",
      h("thead", {}, h("tr", {}, columns.map(([key, label, , numeric]) => h("th", {
        class: `sortable ${numeric ? "num" : ""}`, "data-sort": key,
        onclick: () => { tasks.desc = tasks.sort === key ? !tasks.desc : false; tasks.sort = key; renderTasks(); },
      }, label, tasks.sort === key ? (tasks.desc ? " \u25bc" : " \u25b2") : "")))),
      h("tbody", {}, rows.length ? rows.map((x) => h("tr", { class: "clickable", "data-seq": x.seq, onclick: () => openContact(x.seq) },
        columns.map(([, , get, numeric, format]) => {
          const v = get(x);
          return h("td", { class: numeric ? "num" : "" }, format ? format(v, x) : known(v) ? String(v).replaceAll("_", " ") : DASH);
        }))) : h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, "No contact matches."))));
    $("tasks-prev").disabled = tasks.index === 0;
    $("tasks-next").disabled = !tasks.next;
    $("tasks-page").textContent = `page ${tasks.index + 1}, ${rows.length} shown`;
  }

  // ---- the contact drawer

  async function openContact(seq) {
    const drawer = $("drawer");
    drawer.hidden = false;
    drawer.dataset.seq = seq;
    fill("drawer-title", `Contact ${seq}`);
    fill("drawer-body", h("p", { class: "muted" }, "Loading\u2026"));
    let x;
    try {
      x = await api(path("contact", { batch_id: batchId, seq }));
    } catch (error) {
      fill("drawer-body", h("p", { class: "error" }, error.message));
      return;
    }
    if (drawer.dataset.seq !== String(seq)) return;
    fill("drawer-title", `${x.contact_id} (#${x.seq})`);
    const waiting = WAITING.includes(x.status);
    fill("drawer-body",
      h("dl", { class: "facts", id: "drawer-facts" },
        h("dt", {}, "Phone"), h("dd", {}, x.phone),
        h("dt", {}, "Name"), h("dd", {}, x.name ?? DASH),
        h("dt", {}, "Time zone"), h("dd", {}, x.time_zone),
        h("dt", {}, "Status"), h("dd", {}, h("span", { class: `status ${x.status}` }, x.status)),
        h("dt", {}, "Blocker"), h("dd", {}, x.effective_blocker ?? DASH),
        h("dt", {}, "Blocker reason"), h("dd", { id: "drawer-blocker-reason" }, x.blocker_reason ?? DASH),
        h("dt", {}, "Next try"), h("dd", {}, when(x.next_eligible_at)),
        h("dt", {}, "Attempts"), h("dd", {}, `${dials(x)} dialed, ${int(x.system_retries)} refused before dialing`),
        h("dt", {}, "Last outcome"), h("dd", {}, x.last_outcome ?? DASH),
        h("dt", {}, "Disposition"), h("dd", {}, x.last_disposition ?? DASH),
        h("dt", {}, "Final reason"), h("dd", {}, x.final_reason ?? DASH),
        h("dt", {}, "Talk, cost"), h("dd", {}, `${secs(x.total_talk_ms / 1000)}, ${money(x.total_cost_micros)}`),
        h("dt", {}, "From, variant"), h("dd", {}, `${x.from_number ?? DASH}, ${x.variant ?? DASH}`),
        (x.attributes || []).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      waiting ? h("p", {}, h("button", { id: "drawer-skip", type: "button", class: "danger", onclick: () => skipContact(x.seq) }, "Skip this contact")) : null,
      h("h3", {}, `Attempts (${x.attempts.length})`),
      x.attempts.length ? h("div", { class: "scroll" }, h("table", { id: "drawer-attempts" },
        h("thead", {}, h("tr", {}, ["#", "Started", "Outcome", "SIP", "Talk", "Cost", "From", "Variant", "Disposition", "Sentiment", "Decision"].map((t) => h("th", {}, t)))),
        h("tbody", {}, x.attempts.map((a) => h("tr", {},
          h("td", {}, a.number), h("td", {}, when(a.started_at)), h("td", {}, a.outcome ?? "live"), h("td", {}, a.sip_code ?? DASH),
          h("td", {}, secs(a.talk_ms / 1000)), h("td", {}, known(a.cost_micros) ? money(a.cost_micros) : DASH), h("td", {}, a.from_number ?? DASH), h("td", {}, a.variant ?? DASH),
          h("td", {}, a.disposition?.label ?? DASH), h("td", {}, known(a.disposition?.sentiment) ? fixed(a.disposition.sentiment, 2) : DASH),
          h("td", {}, a.decision ? `${a.decision.decision?.kind ?? ""}${a.decision.faults?.length ? ` (faults: ${a.decision.faults.join("; ")})` : ""}` : DASH))))))
        : h("p", { class: "muted", id: "drawer-attempts" }, "Not dialed yet."),
      h("h3", {}, `Events (${x.events.length})`),
      h("ul", { class: "feed", id: "drawer-events" }, x.events.map((e) => h("li", {}, h("span", { class: "muted" }, `${when(e.at)} `), h("b", {}, e.kind), " ", e.detail))));
  }

  async function skipContact(seq) {
    try {
      await api(path("skip", { batch_id: batchId, seq }), { method: "POST", body: { reason: "skipped from the dashboard" } });
      toast(`Contact ${seq} skipped`);
      openContact(seq);
      soon();
    } catch (error) {
      toast(error.message, true);
    }
  }

  // ---- controls and export

  async function control(action) {
    const button = $(`btn-${action}`);
    button.disabled = true;
    try {
      const batch = await api(path(action, { batch_id: batchId }), { method: "POST", body: { reason: "from the dashboard" } });
      b.batch = batch;
      renderHead();
      toast(`Batch ${batch.status.replaceAll("_", " ")}`);
      if (!FINAL_BATCH.includes(batch.status) && ended) follow();
      soon();
    } catch (error) {
      toast(`${action}: ${error.message}`, true);
      renderHead();
    }
  }

  // Cancelling cannot be undone: the first click arms the button.
  let cancelArmed = null;
  function cancelClicked() {
    const button = $("btn-cancel");
    if (cancelArmed) {
      clearTimeout(cancelArmed);
      cancelArmed = null;
      button.textContent = "Cancel";
      control("cancel");
      return;
    }
    button.textContent = "Confirm cancel";
    cancelArmed = setTimeout(() => {
      cancelArmed = null;
      button.textContent = "Cancel";
    }, 5000);
  }

  function exportCsv() {
    return download("exportCsv", `${batchId}.csv`);
  }

  // The key travels in a header, so a plain link cannot fetch a report:
  // it is fetched and handed to the browser as a file.
  async function download(route, fileName) {
    try {
      const response = await api(path(route, { batch_id: batchId }), { raw: true });
      const blob = await response.blob();
      const link = h("a", { href: URL.createObjectURL(blob), download: fileName });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) {
      toast(`Export: ${error.message}`, true);
    }
  }

  // ---- live events

  // EventSource cannot send an Authorization header, so the stream is read
  // with fetch and parsed here; it reconnects with Last-Event-ID.
  async function follow() {
    ended = false;
    let lastId = null;
    while (!stopped && !ended) {
      try {
        const headers = { Authorization: `Bearer ${apiKey()}`, Accept: "text/event-stream" };
        if (lastId) headers["Last-Event-ID"] = lastId;
        const response = await fetch(path("events", { batch_id: batchId }), { headers, signal: abort.signal });
        if (response.status === 401) {
          signOut("The key was refused; sign in again.");
          return;
        }
        if (!response.ok) throw new Error(`events: ${response.status}`);
        setLive(true);
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = { type: "message", data: [], id: null };
            for (const line of block.split("\n")) {
              if (!line || line.startsWith(":")) continue;
              const colon = line.indexOf(":");
              const field = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
              if (field === "event") event.type = value;
              else if (field === "data") event.data.push(value);
              else if (field === "id") event.id = value;
            }
            if (event.id) lastId = event.id;
            onEvent(event.type, event.data.join("\n"));
          }
        }
      } catch (error) {
        if (stopped) return;
      }
      if (stopped || ended) break;
      setLive(false);
      await sleep(2000);
    }
    if (!stopped) setLive(null);
  }

  function onEvent(type, data) {
    if (type === "progress") {
      try {
        b.progress = JSON.parse(data);
      } catch (_) {
        return;
      }
      if (b.batch) renderKpis();
      renderRecent();
      soon();
    } else if (type === "end") {
      ended = true;
      note("end", `the batch is ${data}`, null);
      soon();
    } else if (type === "error") {
      note("error", data, null);
    } else {
      let event = null;
      try {
        event = JSON.parse(data);
      } catch (_) {
        return;
      }
      const d = event.data || {};
      const parts = [d.contact_id, d.outcome, d.disposition, d.status, d.reason].filter((v) => typeof v === "string" && v);
      note(type, parts.join(" \u00b7 "), event.at);
      if (type.startsWith("batch.")) soon();
    }
  }

  // ---- start

  refresh().then(() => loadTasks()).catch(fail);
  api(path("status", { batch_id: batchId })).then((p) => { b.progress = p; renderRecent(); }).catch(fail);
  follow();
  // The stream carries every change; this catches anything a dropped
  // connection missed, and keeps the window clocks current.
  const poll = setInterval(() => refresh().catch(fail), 10000);
  page = {
    stop() {
      stopped = true;
      abort.abort();
      clearInterval(poll);
      clearTimeout(refreshTimer);
    },
  };
}

function closeDrawer() {
  const drawer = $("drawer");
  drawer.hidden = true;
  delete drawer.dataset.seq;
}

// ---------------------------------------------------------------- start

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut());
  $("drawer-close").addEventListener("click", closeDrawer);
  document.addEventListener("keydown", (event) => event.key === "Escape" && closeDrawer());
  window.addEventListener("hashchange", route);
  route();
});
