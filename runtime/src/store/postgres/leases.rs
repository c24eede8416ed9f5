//! Nodes and campaign leases: which process dials which campaign.
//!
//! Each open store is a node with a row in `nodes`, its heartbeat renewed
//! by every lease round. A round renews the node's leases, counts the live
//! nodes and takes free or expired leases up to the node's fair share (the
//! campaigns over the live nodes, rounded up), so the campaigns spread over
//! the nodes; a node holding more than its share names the rest as
//! surplus, which its dispatcher hands back once their calls have ended.
//!
//! A lease is good until `lease_until` by the database's clock. The node
//! keeps its own deadline, measured from the moment it sent the round, so
//! it is never later than the database's: a node that stalls (a pause, a
//! lost connection) stops placing calls by its own clock before anyone can
//! take its campaigns. Every write of the dispatcher checks the lease in
//! its own transaction and keeps the row's share lock until it commits: a
//! takeover, which updates the row, waits for it, and once the takeover
//! has committed no write of the previous owner can.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use deadpool_postgres::Object;

use super::rows::describe;
use crate::store::{Lease, LeaseRound, StoreError};

/// A campaign as leases name it: workspace and campaign id.
pub(super) type CampaignRef = (String, String);

/// How long before its own deadline a node stops placing calls on a
/// lease, for the time a call takes to leave.
const PLACE_MARGIN: Duration = Duration::from_millis(500);
/// Node rows whose heartbeat is older than this many lease times are
/// removed.
const FORGET_NODES_AFTER: u32 = 20;

/// This process as a node, and the leases it holds.
pub(super) struct Node {
    pub(super) id: String,
    pub(super) ttl: Duration,
    state: Mutex<NodeState>,
}

#[derive(Default)]
struct NodeState {
    held: HashMap<CampaignRef, Held>,
    /// Webhook endpoints this node delivers, until its own deadline.
    endpoints: HashMap<String, Instant>,
    surplus: Vec<CampaignRef>,
    last_round: Option<Instant>,
}

impl NodeState {
    /// The leases the node's own clock still holds.
    fn answer(&self) -> LeaseRound {
        let now = Instant::now();
        let mut held: Vec<Lease> = self
            .held
            .iter()
            .filter(|(_, held)| held.until > now)
            .map(|((workspace, campaign_id), held)| Lease {
                workspace: workspace.clone(),
                campaign_id: campaign_id.clone(),
                epoch: held.epoch,
            })
            .collect();
        held.sort();
        LeaseRound {
            held,
            surplus: self.surplus.clone(),
        }
    }
}

#[derive(Clone, Copy)]
struct Held {
    epoch: i64,
    /// The node's own deadline: the round's start plus the time to live.
    until: Instant,
}

impl Node {
    pub(super) fn new(ttl: Duration) -> Node {
        Node {
            id: new_node_id(),
            ttl,
            state: Mutex::new(NodeState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, NodeState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The epoch of `campaign`'s lease while the node's deadline has not
    /// passed.
    pub(super) fn epoch(&self, campaign: &CampaignRef) -> Option<i64> {
        let now = Instant::now();
        self.state()
            .held
            .get(campaign)
            .filter(|held| held.until > now)
            .map(|held| held.epoch)
    }

    /// Whether a call of `campaign` may leave now.
    pub(super) fn may_place(&self, campaign: &CampaignRef) -> bool {
        let now = Instant::now() + PLACE_MARGIN;
        self.state()
            .held
            .get(campaign)
            .is_some_and(|held| held.until > now)
    }

    /// The last round's answer while it is recent enough to stand.
    pub(super) fn round_is_fresh(&self) -> Option<LeaseRound> {
        let state = self.state();
        let last = state.last_round?;
        if last.elapsed() >= self.ttl / 4 {
            return None;
        }
        Some(state.answer())
    }

    /// Forgets `campaign`'s lease, so no write is fenced by it any more.
    pub(super) fn forget(&self, campaign: &CampaignRef) {
        let mut state = self.state();
        state.held.remove(campaign);
        state.surplus.retain(|surplus| surplus != campaign);
    }

    fn forget_all(&self) {
        let mut state = self.state();
        state.held.clear();
        state.surplus.clear();
        state.endpoints.clear();
    }

    /// Whether the endpoint's lease is held with three quarters of its time
    /// left, so no renewal is due.
    pub(super) fn delivers_without_renewal(&self, endpoint_id: &str) -> bool {
        let renewal_due = Instant::now() + self.ttl * 3 / 4;
        self.state()
            .endpoints
            .get(endpoint_id)
            .is_some_and(|until| *until > renewal_due)
    }
}

/// A node id unique across restarts: the host's name, the process id and
/// random bits, so an operator can tell which process a lease is held by.
fn new_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "node".to_string());
    let mut bits = [0u8; 4];
    // Without randomness the process id and the time still tell nodes apart.
    if getrandom::fill(&mut bits).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or_default();
        bits = nanos.to_le_bytes();
    }
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        u32::from_le_bytes(bits)
    )
}

fn interval(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// Registers a node, or beats its heart.
const HEARTBEAT: &str = "INSERT INTO nodes (id, started_at, heartbeat_at) \
                         VALUES ($1, clock_timestamp(), clock_timestamp()) \
                         ON CONFLICT (id) DO UPDATE SET heartbeat_at = clock_timestamp()";

/// Registers `node`, or beats its heart.
pub(super) async fn heartbeat(db: &Object, node: &Node) -> Result<(), StoreError> {
    db.execute(HEARTBEAT, &[&node.id])
        .await
        .map_err(|err| StoreError::Io(describe(&err)))?;
    Ok(())
}

/// One lease round for the campaigns of `campaigns` (this node's config):
/// heartbeat, renewal, and claims up to the node's share. The caller asks
/// [`Node::round_is_fresh`] first, before taking a connection.
pub(super) async fn round(
    db: &mut Object,
    node: &Node,
    campaigns: &[CampaignRef],
) -> Result<LeaseRound, StoreError> {
    let started = Instant::now();
    let result = run_round(db, node, campaigns).await;
    let mut state = node.state();
    // A failed round is not tried again before the next is due; the
    // leases run out by the node's own clock meanwhile.
    state.last_round = Some(started);
    let (held, surplus) = result?;
    let until = started + node.ttl;
    state.held = held
        .into_iter()
        .map(|(campaign, epoch)| (campaign, Held { epoch, until }))
        .collect();
    state.surplus = surplus;
    Ok(state.answer())
}

async fn run_round(
    db: &mut Object,
    node: &Node,
    campaigns: &[CampaignRef],
) -> Result<(Vec<(CampaignRef, i64)>, Vec<CampaignRef>), StoreError> {
    let io = |err: tokio_postgres::Error| StoreError::Io(describe(&err));
    let (workspaces, ids): (Vec<&str>, Vec<&str>) = campaigns
        .iter()
        .map(|(workspace, id)| (workspace.as_str(), id.as_str()))
        .unzip();
    let ttl = interval(node.ttl);
    let tx = db.transaction().await.map_err(io)?;
    tx.execute(HEARTBEAT, &[&node.id]).await.map_err(io)?;
    tx.execute(
        "INSERT INTO campaign_leases (workspace, campaign_id) \
         SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
        &[&workspaces, &ids],
    )
    .await
    .map_err(io)?;
    let renewed = tx
        .query(
            "UPDATE campaign_leases l \
             SET lease_until = clock_timestamp() + make_interval(secs => $2) \
             FROM unnest($3::text[], $4::text[]) AS mine(workspace, campaign_id) \
             WHERE l.owner = $1 AND l.lease_until > clock_timestamp() \
             AND l.workspace = mine.workspace AND l.campaign_id = mine.campaign_id \
             RETURNING l.workspace, l.campaign_id, l.epoch",
            &[&node.id, &ttl, &workspaces, &ids],
        )
        .await
        .map_err(io)?;
    let mut held: Vec<(CampaignRef, i64)> = renewed
        .iter()
        .map(|row| ((row.get(0), row.get(1)), row.get(2)))
        .collect();
    let live: i64 = tx
        .query_one(
            "SELECT count(*) FROM nodes \
             WHERE heartbeat_at > clock_timestamp() - make_interval(secs => $1)",
            &[&ttl],
        )
        .await
        .map_err(io)?
        .get(0);
    let live = usize::try_from(live.max(1)).unwrap_or(1);
    let share = campaigns.len().div_ceil(live);
    if held.len() < share {
        let wanted = i64::try_from(share - held.len()).unwrap_or(i64::MAX);
        let claimed = tx
            .query(
                "UPDATE campaign_leases l \
                 SET owner = $1, epoch = l.epoch + 1, \
                 lease_until = clock_timestamp() + make_interval(secs => $2) \
                 FROM (SELECT c.workspace, c.campaign_id FROM campaign_leases c \
                       JOIN unnest($3::text[], $4::text[]) AS mine(workspace, campaign_id) \
                       ON c.workspace = mine.workspace AND c.campaign_id = mine.campaign_id \
                       WHERE c.lease_until <= clock_timestamp() \
                       ORDER BY random() LIMIT $5 FOR UPDATE SKIP LOCKED) AS free \
                 WHERE l.workspace = free.workspace AND l.campaign_id = free.campaign_id \
                 RETURNING l.workspace, l.campaign_id, l.epoch",
                &[&node.id, &ttl, &workspaces, &ids, &wanted],
            )
            .await
            .map_err(io)?;
        held.extend(
            claimed
                .iter()
                .map(|row| ((row.get(0), row.get(1)), row.get(2))),
        );
    }
    held.sort();
    let surplus = held
        .iter()
        .skip(share)
        .map(|(campaign, _)| campaign.clone())
        .collect();
    discard_orphan_drafts(&tx, ttl).await?;
    tx.execute(
        "DELETE FROM nodes WHERE heartbeat_at < clock_timestamp() - make_interval(secs => $1)",
        &[&(ttl * f64::from(FORGET_NODES_AFTER))],
    )
    .await
    .map_err(io)?;
    tx.commit().await.map_err(io)?;
    Ok((held, surplus))
}

/// Discards the drafts of batch creates whose node is gone: a crash
/// interrupted them, and nobody will finish them.
pub(super) async fn discard_orphan_drafts(
    db: &impl deadpool_postgres::GenericClient,
    ttl: f64,
) -> Result<(), StoreError> {
    let io = |err: tokio_postgres::Error| StoreError::Io(describe(&err));
    let orphans = db
        .query(
            "SELECT d.batch_id FROM drafts d LEFT JOIN nodes n ON n.id = d.node \
             WHERE n.id IS NULL \
             OR n.heartbeat_at <= clock_timestamp() - make_interval(secs => $1) \
             FOR UPDATE OF d SKIP LOCKED",
            &[&ttl],
        )
        .await
        .map_err(io)?;
    for row in orphans {
        let batch_id: String = row.get(0);
        tracing::warn!(batch = %batch_id, "discarding a batch whose create a crash interrupted");
        for sql in [
            "DELETE FROM contacts WHERE batch_id = $1",
            "DELETE FROM batch_zones WHERE batch_id = $1",
            "DELETE FROM drafts WHERE batch_id = $1",
        ] {
            db.execute(sql, &[&batch_id]).await.map_err(io)?;
        }
    }
    Ok(())
}

/// Takes or renews the lease of a webhook endpoint; answers whether this
/// node holds it.
pub(super) async fn lease_endpoint(
    db: &Object,
    node: &Node,
    endpoint_id: &str,
) -> Result<bool, StoreError> {
    let started = Instant::now();
    let row = db
        .query_opt(
            "INSERT INTO webhook_leases (endpoint_id, owner, epoch, lease_until) \
             VALUES ($1, $2, 1, clock_timestamp() + make_interval(secs => $3)) \
             ON CONFLICT (endpoint_id) DO UPDATE SET owner = $2, \
             lease_until = clock_timestamp() + make_interval(secs => $3), \
             epoch = webhook_leases.epoch \
                 + CASE WHEN webhook_leases.owner = $2 THEN 0 ELSE 1 END \
             WHERE webhook_leases.owner = $2 \
                OR webhook_leases.lease_until <= clock_timestamp() \
             RETURNING epoch",
            &[&endpoint_id, &node.id, &interval(node.ttl)],
        )
        .await
        .map_err(|err| StoreError::Io(describe(&err)))?;
    let mut state = node.state();
    match row {
        Some(_) => {
            state
                .endpoints
                .insert(endpoint_id.to_string(), started + node.ttl);
            Ok(true)
        }
        None => {
            state.endpoints.remove(endpoint_id);
            Ok(false)
        }
    }
}

/// Hands `campaign`'s lease back, so another node may take it at once.
pub(super) async fn release(
    db: &Object,
    node: &Node,
    campaign: &CampaignRef,
) -> Result<(), StoreError> {
    node.forget(campaign);
    db.execute(
        "UPDATE campaign_leases SET owner = NULL, lease_until = '-infinity' \
         WHERE owner = $1 AND workspace = $2 AND campaign_id = $3",
        &[&node.id, &campaign.0, &campaign.1],
    )
    .await
    .map_err(|err| StoreError::Io(describe(&err)))?;
    Ok(())
}

/// Hands every lease back and removes the node: a node that stops cleanly
/// lets the others take its campaigns without waiting for the leases to
/// run out.
pub(super) async fn leave(db: &Object, node: &Node) -> Result<(), StoreError> {
    node.forget_all();
    db.batch_execute("BEGIN")
        .await
        .map_err(|err| StoreError::Io(describe(&err)))?;
    for sql in [
        "UPDATE campaign_leases SET owner = NULL, lease_until = '-infinity' WHERE owner = $1",
        "UPDATE webhook_leases SET owner = NULL, lease_until = '-infinity' WHERE owner = $1",
        "DELETE FROM nodes WHERE id = $1",
    ] {
        db.execute(sql, &[&node.id])
            .await
            .map_err(|err| StoreError::Io(describe(&err)))?;
    }
    db.batch_execute("COMMIT")
        .await
        .map_err(|err| StoreError::Io(describe(&err)))?;
    Ok(())
}

/// Refuses a dispatcher's write to `campaign` unless this node holds its
/// lease, by its own clock and in the database; the row's share lock is
/// held until the write's transaction ends.
pub(super) async fn check(
    db: &Object,
    node: &Node,
    campaign: &CampaignRef,
) -> Result<(), StoreError> {
    let fenced = || StoreError::Fenced {
        workspace: campaign.0.clone(),
        campaign: campaign.1.clone(),
    };
    let epoch = node.epoch(campaign).ok_or_else(fenced)?;
    let statement = db
        .prepare_cached(
            "SELECT 1 FROM campaign_leases \
             WHERE workspace = $1 AND campaign_id = $2 AND owner = $3 AND epoch = $4 \
             AND lease_until > clock_timestamp() FOR SHARE",
        )
        .await
        .map_err(|err| StoreError::Io(describe(&err)))?;
    let row = db
        .query_opt(&statement, &[&campaign.0, &campaign.1, &node.id, &epoch])
        .await
        .map_err(|err| StoreError::Io(describe(&err)))?;
    if row.is_none() {
        node.forget(campaign);
        return Err(fenced());
    }
    Ok(())
}
