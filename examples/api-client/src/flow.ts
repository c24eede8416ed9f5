// One batch's whole life through a client generated from outdial's OpenAPI
// document: create, pause, resume, list contacts page by page, progress,
// statistics and export. Every type of the API comes from the generated
// file, so a document that does not describe the server fails `npm run
// build` (the types) or `npm run flow` (the answers).

import createClient from "openapi-fetch";
import type { paths } from "../generated/schema.js";

class FlowError extends Error {}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new FlowError(message);
  }
}

function env(name: string): string {
  const value = process.env[name];
  check(value !== undefined && value !== "", `${name} is not set`);
  return value;
}

/** The answer's data, or a failure naming the step, status and error. */
function ok<T>(
  step: string,
  result: { data?: T; error?: unknown; response: Response },
): T {
  const { data, error, response } = result;
  if (data === undefined) {
    const detail = error === undefined ? "no body" : JSON.stringify(error);
    throw new FlowError(`${step}: HTTP ${response.status}: ${detail}`);
  }
  return data;
}

type CreateBatchBody = NonNullable<
  paths["/v1/campaigns/{campaign_id}/batches"]["post"]["requestBody"]
>["content"]["application/json"];
type NewContact = NonNullable<CreateBatchBody["contacts"]>[number];

const contacts: NewContact[] = [
  {
    phone: "+12125550101",
    name: "Ada",
    id: "c-1",
    time_zone: "America/New_York",
    attributes: { plan: "pro" },
  },
  { phone: "+13125550102", name: "Grace", attributes: { plan: "free" } },
  { phone: "+14155550103" },
];

async function flow(): Promise<string> {
  const baseUrl = env("OUTDIAL_URL").replace(/\/+$/, "");
  const key = env("OUTDIAL_API_KEY");
  const campaign = env("OUTDIAL_CAMPAIGN");
  const client = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${key}` },
  });

  // a. Create. The start is far ahead so no contact is dialed meanwhile
  // and every count below is known exactly.
  const createdResult = await client.POST(
    "/v1/campaigns/{campaign_id}/batches",
    {
      params: { path: { campaign_id: campaign } },
      body: { contacts, scheduled_start: "2099-01-01T00:00:00Z" },
    },
  );
  const created = ok("create the batch", createdResult);
  check(
    createdResult.response.status === 201,
    `create the batch: HTTP ${createdResult.response.status}, expected 201`,
  );
  check(created.created === true, "create the batch: created is not true");
  check(
    created.skipped.length === 0,
    `create the batch: ${created.skipped.length} contacts skipped`,
  );
  const batchId = created.batch.batch_id;
  const path = { batch_id: batchId };
  check(
    created.batch.counters.total === contacts.length,
    `create the batch: ${created.batch.counters.total} contacts, expected ${contacts.length}`,
  );

  // b. Pause, then resume: a batch whose start is ahead goes back to
  // pending.
  const paused = ok(
    "pause",
    await client.POST("/v1/batches/{batch_id}/pause", {
      params: { path },
      body: { reason: "checking the generated client" },
    }),
  );
  check(
    paused.status === "paused",
    `pause: status "${paused.status}", expected "paused"`,
  );
  const resumed = ok(
    "resume",
    await client.POST("/v1/batches/{batch_id}/resume", {
      params: { path },
      body: { reason: "checked" },
    }),
  );
  check(
    resumed.status === "pending",
    `resume: status "${resumed.status}", expected "pending"`,
  );

  // c. Contacts one a page, filtered by status, following the cursor.
  const seen = new Map<number, string>();
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    pages += 1;
    // Every page holds at most one contact, and the last may be empty.
    check(pages <= contacts.length + 1, `contacts: more than ${pages - 1} pages`);
    const page = ok(
      `contacts page ${pages}`,
      await client.GET("/v1/batches/{batch_id}/contacts", {
        params: {
          path,
          query: {
            status: "pending",
            limit: 1,
            ...(cursor === undefined ? {} : { cursor }),
          },
        },
      }),
    );
    check(
      page.contacts.length <= 1,
      `contacts page ${pages}: ${page.contacts.length} contacts, expected at most 1`,
    );
    for (const contact of page.contacts) {
      check(
        !seen.has(contact.seq),
        `contacts: contact ${contact.seq} seen twice`,
      );
      check(
        contact.status === "pending",
        `contacts: contact ${contact.seq} is "${contact.status}", expected "pending"`,
      );
      seen.set(contact.seq, contact.phone);
      if (contact.contact_id === "c-1") {
        check(
          contact.name === "Ada" && contact.time_zone === "America/New_York",
          `contacts: c-1 is ${JSON.stringify(contact)}`,
        );
      }
    }
    // The document leaves the field optional; the server sends null.
    const next = page.next_cursor ?? null;
    if (next === null) {
      break;
    }
    cursor = next;
  }
  const phones = [...seen.values()].sort();
  const sent = contacts.map((contact) => contact.phone).sort();
  check(
    JSON.stringify(phones) === JSON.stringify(sent),
    `contacts: saw ${phones.join(", ")}, expected ${sent.join(", ")}`,
  );

  // d. Progress and statistics agree with each other and the upload.
  const progress = ok(
    "progress",
    await client.GET("/v1/batches/{batch_id}/status", { params: { path } }),
  );
  const stats = ok(
    "statistics",
    await client.GET("/v1/batches/{batch_id}/stats", { params: { path } }),
  );
  const total = contacts.length;
  const expectations: [string, number, number][] = [
    ["progress total", progress.total, total],
    ["progress waiting", progress.waiting, total],
    ["progress active", progress.active, 0],
    ["progress completed", progress.completed, 0],
    ["progress failed", progress.failed, 0],
    ["statistics total", stats.total, total],
    ["statistics pending", stats.pending, total],
    ["statistics succeeded", stats.succeeded, progress.completed],
    ["statistics failed", stats.failed, progress.failed],
    ["statistics processed", stats.processed, 0],
    ["statistics percentComplete", stats.percentComplete, 0],
    ["statistics counters total", stats.counters.total, total],
  ];
  for (const [what, actual, expected] of expectations) {
    check(actual === expected, `${what} is ${actual}, expected ${expected}`);
  }
  check(
    progress.status === "pending" && !progress.isComplete,
    `progress: status "${progress.status}", isComplete ${progress.isComplete}`,
  );

  // e. The export: a header, then one line per contact.
  const csv = ok(
    "export",
    await client.GET("/v1/batches/{batch_id}/export.csv", {
      params: { path },
      parseAs: "text",
    }),
  );
  const lines = csv.split(/\r?\n/).filter((line) => line !== "");
  check(
    lines[0]?.startsWith("seq,contact_id,phone") === true,
    `export: header is ${JSON.stringify(lines[0])}`,
  );
  check(
    lines.length === total + 1,
    `export: ${lines.length} lines, expected a header and ${total} contacts`,
  );
  for (const phone of sent) {
    check(
      lines.some((line) => line.includes(`,${phone},`)),
      `export: no line for ${phone}`,
    );
  }

  return [
    `batch ${batchId}: ${total} contacts created`,
    "paused and resumed",
    `${seen.size} contacts listed over ${pages} pages`,
    `progress and statistics agree (${total} waiting)`,
    `export has ${lines.length - 1} rows`,
  ].join("; ");
}

try {
  console.log(`flow passed: ${await flow()}`);
} catch (error) {
  // fetch says only "fetch failed"; the cause names what went wrong, e.g.
  // a refused connection.
  const cause =
    error instanceof Error && error.cause !== undefined
      ? ` (${String(error.cause)})`
      : "";
  const message = error instanceof FlowError ? error.message : String(error);
  console.error(`flow failed: ${message}${cause}`);
  process.exit(1);
}
