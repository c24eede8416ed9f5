-- Several nodes share one database: each process registers as a node and
-- dials only the campaigns it holds a lease on.

-- A node beats its heart every few seconds; one whose heartbeat is older
-- than a lease's time to live is taken for dead.
CREATE TABLE nodes (
    id text COLLATE "C" PRIMARY KEY,
    started_at timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);

-- Who may dial a campaign, until when. Every change of owner adds one to
-- `epoch`, and every write of the owner's dispatcher checks owner and epoch
-- in its own transaction (holding the row's share lock until it commits),
-- so a write of a previous owner never lands after a takeover.
CREATE TABLE campaign_leases (
    workspace text COLLATE "C" NOT NULL,
    campaign_id text COLLATE "C" NOT NULL,
    owner text COLLATE "C",
    epoch bigint NOT NULL DEFAULT 0,
    lease_until timestamptz NOT NULL DEFAULT '-infinity',
    PRIMARY KEY (workspace, campaign_id)
);
CREATE INDEX campaign_leases_by_owner ON campaign_leases (owner);

-- The node writing a draft: a draft is discarded once its node is gone,
-- not while it is still writing.
ALTER TABLE drafts ADD COLUMN node text COLLATE "C";

-- Who delivers an outbound webhook endpoint's events, until when: one node
-- at a time, so each event is posted once and in order.
CREATE TABLE webhook_leases (
    endpoint_id text COLLATE "C" PRIMARY KEY,
    owner text COLLATE "C",
    epoch bigint NOT NULL DEFAULT 0,
    lease_until timestamptz NOT NULL DEFAULT '-infinity'
);
