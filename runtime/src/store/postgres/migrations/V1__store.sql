-- The store's tables. Real columns hold what is looked up, filtered,
-- ordered or summed; `record` holds the rest of each record as MessagePack,
-- written and read by the same types as the embedded store, so the rules
-- of every change stay in the ledger.
-- Text that is listed in order sorts by bytes ("C"), as the embedded store
-- does.

-- One row: the newest journal seq, kept apart from the journal so that
-- pruning every event never lets a seq be given twice.
CREATE TABLE store_meta (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    journal_head bigint NOT NULL DEFAULT 0
);
INSERT INTO store_meta DEFAULT VALUES;

CREATE TABLE batches (
    id text COLLATE "C" PRIMARY KEY,
    workspace text COLLATE "C" NOT NULL,
    campaign_id text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL,
    -- Not final yet: pending, in progress or paused.
    open boolean NOT NULL,
    record bytea NOT NULL
);
CREATE INDEX batches_by_workspace ON batches (workspace, created_at, id);
CREATE INDEX batches_by_campaign ON batches (workspace, campaign_id, created_at, id);
CREATE INDEX batches_open ON batches (id) WHERE open;

-- A batch being created: its contacts are written chunk by chunk, and its
-- row in `batches` comes with the last write. A draft left by a crash is
-- discarded at open.
CREATE TABLE drafts (
    batch_id text COLLATE "C" PRIMARY KEY,
    workspace text COLLATE "C" NOT NULL
);

CREATE TABLE idempotency_keys (
    workspace text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    batch_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (workspace, key)
);

CREATE TABLE contacts (
    batch_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    workspace text COLLATE "C" NOT NULL,
    contact_id text NOT NULL,
    phone text COLLATE "C" NOT NULL,
    status text NOT NULL,
    -- `next_eligible_at` while the contact waits, else null: the due index.
    due_at bigint,
    -- `ContactRecord`.
    record bytea NOT NULL,
    -- `ContactDials`: the contact's share of its number's history.
    dials bytea NOT NULL,
    PRIMARY KEY (batch_id, seq)
);
-- Waiting contacts only: finding work never scans the others.
CREATE INDEX contacts_due ON contacts (batch_id, due_at, seq) WHERE due_at IS NOT NULL;
CREATE INDEX contacts_by_status ON contacts (batch_id, status, seq);
-- The contacts of one number across its workspace, for its history.
CREATE INDEX contacts_by_phone ON contacts (workspace, phone);

CREATE TABLE attempts (
    batch_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    number integer NOT NULL,
    live boolean NOT NULL,
    -- The provider's call id recorded while the attempt is live, without
    -- rewriting its record; an ended attempt's record carries it.
    provider_call_id text,
    -- `Attempt`.
    record bytea NOT NULL,
    PRIMARY KEY (batch_id, seq, number)
);
CREATE INDEX attempts_live ON attempts (batch_id, seq) WHERE live;

-- The lines of each contact's log (its "dispatched" lines are told by its
-- attempts).
CREATE TABLE contact_events (
    batch_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    number integer NOT NULL,
    -- `ContactEvent`.
    record bytea NOT NULL,
    PRIMARY KEY (batch_id, seq, number)
);

-- Counter deltas, one row per batch and writer shard, summed on read: no
-- row is shared by the writers of different shards. A campaign's counters
-- are the sum over its batches.
CREATE TABLE counter_shards (
    batch_id text COLLATE "C" NOT NULL,
    shard integer NOT NULL,
    workspace text COLLATE "C" NOT NULL,
    campaign_id text COLLATE "C" NOT NULL,
    -- total, attempts, answered, ended, system_retries, talk_ms,
    -- cost_micros, plugin_faults, suppressed, gate_skipped: new counters
    -- are appended.
    scalars bigint[] NOT NULL,
    -- Indexed like `ContactStatus::ALL` and `Blocker::ALL`.
    by_status bigint[] NOT NULL,
    by_blocker bigint[] NOT NULL,
    PRIMARY KEY (batch_id, shard)
);
CREATE INDEX counter_shards_by_campaign ON counter_shards (workspace, campaign_id);

-- Adds two counter arrays element by element; the shorter is read as
-- padded with zeros.
CREATE FUNCTION outdial_add_counts(a bigint[], b bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i), '{}')
    FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i)
$$;

-- `AttemptTotals`.
CREATE TABLE batch_totals (
    batch_id text COLLATE "C" PRIMARY KEY,
    record bytea NOT NULL
);
CREATE TABLE campaign_totals (
    workspace text COLLATE "C" NOT NULL,
    campaign_id text COLLATE "C" NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (workspace, campaign_id)
);

-- `NumberTotals` of each caller id, added to in place.
CREATE TABLE batch_number_totals (
    batch_id text COLLATE "C" NOT NULL,
    number text COLLATE "C" NOT NULL,
    attempts bigint NOT NULL,
    answered bigint NOT NULL,
    busy bigint NOT NULL,
    no_answer bigint NOT NULL,
    failed bigint NOT NULL,
    PRIMARY KEY (batch_id, number)
);
CREATE TABLE campaign_number_totals (
    workspace text COLLATE "C" NOT NULL,
    campaign_id text COLLATE "C" NOT NULL,
    number text COLLATE "C" NOT NULL,
    attempts bigint NOT NULL,
    answered bigint NOT NULL,
    busy bigint NOT NULL,
    no_answer bigint NOT NULL,
    failed bigint NOT NULL,
    PRIMARY KEY (workspace, campaign_id, number)
);

-- `MinuteTotals`, added to in place.
CREATE TABLE timeline (
    batch_id text COLLATE "C" NOT NULL,
    minute bigint NOT NULL,
    attempts bigint NOT NULL,
    answers bigint NOT NULL,
    failures bigint NOT NULL,
    PRIMARY KEY (batch_id, minute)
);

-- `RecentCall`s, newest first.
CREATE TABLE recent_calls (
    batch_id text COLLATE "C" PRIMARY KEY,
    record bytea NOT NULL
);

CREATE TABLE batch_zones (
    batch_id text COLLATE "C" NOT NULL,
    zone text COLLATE "C" NOT NULL,
    PRIMARY KEY (batch_id, zone)
);

-- `NumberState`.
CREATE TABLE number_states (
    workspace text COLLATE "C" NOT NULL,
    campaign_id text COLLATE "C" NOT NULL,
    number text COLLATE "C" NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (workspace, campaign_id, number)
);

-- `JournalEvent`s.
CREATE TABLE journal (
    seq bigint PRIMARY KEY,
    record bytea NOT NULL
);

-- `WebhookEndpointState` and the `WebhookDelivery` tries logged.
CREATE TABLE webhook_endpoints (
    id text COLLATE "C" PRIMARY KEY,
    record bytea NOT NULL
);
CREATE TABLE webhook_deliveries (
    endpoint_id text COLLATE "C" NOT NULL,
    number bigint NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (endpoint_id, number)
);

-- `SuppressionList` (`dnc-internal` once written).
CREATE TABLE suppression_lists (
    workspace text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (workspace, name)
);
-- `SuppressionEntry`, with its list's `blocks` beside it for the dial-time
-- lookup by number.
CREATE TABLE suppression_entries (
    workspace text COLLATE "C" NOT NULL,
    list text COLLATE "C" NOT NULL,
    phone text COLLATE "C" NOT NULL,
    blocks boolean NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (workspace, list, phone)
);
CREATE INDEX suppression_entries_by_phone ON suppression_entries (workspace, phone, list);
