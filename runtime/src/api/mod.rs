//! The HTTP API under `/v1`: campaigns, batches, contacts, progress and
//! statistics, operator controls, exports, queue health, live events, and
//! the signed outbound webhooks. Every route is listed once in
//! [`routes::ROUTES`], which builds both the router and the OpenAPI
//! document, so the two cannot disagree.
//!
//! Each API key belongs to one workspace; anything of another workspace
//! answers 404 as if it did not exist.

mod auth;
mod batches;
mod body;
mod campaigns;
mod contacts;
pub mod dashboard;
mod error;
mod events;
mod metrics;
mod reports;
pub mod routes;
mod schema;
mod suppression;
pub mod webhooks;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

pub use auth::{Caller, hash_key};
pub use error::{ApiError, ApiResult, ErrorBody, ErrorCode, ErrorDetail, RowProblem};
pub use webhooks::{WebhookSettings, sign};

use crate::clock::Clock;
use crate::config::{Config, MetricsSpec, PluginCatalog, PluginScope, WorkspaceSpec};
use crate::model::CampaignSpec;
use crate::store::Store;

/// Limits of the API.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Largest JSON body of an ordinary request, in bytes. Default: 1 MiB.
    pub max_json_bytes: usize,
    /// Largest contact upload (batch create and preview), in bytes.
    /// Default: 64 MiB.
    pub max_upload_bytes: usize,
    /// Most contacts in one batch. Default: 1,000,000.
    pub max_contacts_per_batch: usize,
    /// How often a live event stream looks for news. Default: 250 ms.
    pub events_poll_interval: Duration,
    pub webhooks: WebhookSettings,
    /// Who may read `/metrics` and what its series are labelled with, from
    /// `[server]` (see [`Config::metrics_spec`]). Default: anyone, labelled
    /// by workspace and campaign.
    pub metrics: MetricsSpec,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            max_json_bytes: 1024 * 1024,
            max_upload_bytes: 64 * 1024 * 1024,
            max_contacts_per_batch: crate::import::DEFAULT_MAX_ROWS,
            events_poll_interval: Duration::from_millis(250),
            webhooks: WebhookSettings::default(),
            metrics: MetricsSpec::default(),
        }
    }
}

/// Looks up environment variables (webhook signing secrets).
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What the API is built from.
pub struct ApiContext {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub workspaces: Vec<WorkspaceSpec>,
    pub campaigns: Vec<CampaignSpec>,
    pub settings: ApiSettings,
    /// Where webhook secrets are read from; the process environment in
    /// production.
    pub env: EnvLookup,
    /// The plugins a batch may name for itself; without them a batch's
    /// own retry strategy is refused.
    pub plugins: Option<PluginScope>,
}

/// Why the API could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ApiSetupError {
    #[error("{0}")]
    Keys(String),
    #[error("invalid config: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Shared state of every request; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: Vec<auth::KnownKey>,
    /// By (workspace, campaign id).
    campaigns: HashMap<(String, String), CampaignSpec>,
    plugins: Option<PluginScope>,
    settings: ApiSettings,
    webhooks: Vec<webhooks::Endpoint>,
    metrics: metrics::Metrics,
}

impl AppState {
    /// The API's state from its parts. Webhook endpoints seen for the first
    /// time start after the journal's current end: they are told of changes
    /// from now on, not of the whole history.
    pub fn new(context: ApiContext) -> Result<AppState, ApiSetupError> {
        let keys = auth::known_keys(&context.workspaces).map_err(ApiSetupError::Keys)?;
        let webhooks = webhooks::Endpoint::set_up(
            context.store.as_ref(),
            &context.campaigns,
            context.env.as_ref(),
            context.clock.now(),
        )?;
        let campaigns = context
            .campaigns
            .into_iter()
            .map(|spec| ((spec.workspace.clone(), spec.id.clone()), spec))
            .collect();
        Ok(AppState {
            inner: Arc::new(Inner {
                store: context.store,
                clock: context.clock,
                keys,
                campaigns,
                plugins: context.plugins,
                settings: context.settings,
                webhooks,
                metrics: metrics::Metrics::default(),
            }),
        })
    }

    /// The API's state for a parsed config: its workspaces' keys (keys
    /// named by environment variable are read through `env`), its
    /// campaigns and their webhooks, and the plugins `catalog` loads for
    /// batches that name their own.
    pub fn from_config(
        config: &Config,
        catalog: Option<Arc<dyn PluginCatalog + Send + Sync>>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        env: EnvLookup,
        settings: ApiSettings,
    ) -> Result<AppState, ApiSetupError> {
        let workspaces = config
            .workspace_specs(env.as_ref())
            .map_err(|found| ApiSetupError::Config(found.to_string()))?;
        let campaigns = config
            .campaign_specs()
            .map_err(|found| ApiSetupError::Config(found.to_string()))?;
        AppState::new(ApiContext {
            store,
            clock,
            workspaces,
            campaigns,
            settings,
            env,
            plugins: catalog.map(|catalog| PluginScope {
                config: Arc::new(config.clone()),
                catalog,
            }),
        })
    }

    /// The store the API reads and writes.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    fn campaign(&self, caller: &Caller, campaign_id: &str) -> ApiResult<&CampaignSpec> {
        self.inner
            .campaigns
            .get(&(caller.workspace.clone(), campaign_id.to_string()))
            .ok_or_else(|| ApiError::campaign_not_found(campaign_id))
    }

    /// Runs blocking store work off the async workers.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Store) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || work(store.as_ref()))
            .await
            .map_err(ApiError::internal)?
    }
}

/// The whole API as one router, state applied, with the operator
/// dashboard at `/`; ready to be merged with other routers (`.merge(...)`)
/// and served.
pub fn router(state: AppState) -> Router {
    routes::build(state).merge(dashboard::router())
}

/// Serves the API on `listener` until `shutdown` completes, with the
/// outbound webhook deliverer running beside it.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    router: Router,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let deliverer = webhooks::spawn_deliverer(state);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    deliverer.abort();
    served
}

/// Serves the API on `listener` until the process is interrupted.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let router = router(state.clone());
    serve_until(listener, router, state, async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    })
    .await
}
