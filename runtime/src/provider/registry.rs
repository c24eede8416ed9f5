//! From campaigns to the providers that place their calls.
//!
//! [`providers_for`] builds, for each campaign, the simulated provider or
//! the adapter provider its config names (plugin loaded, secrets read from
//! the environment, egress allow-list, a durable webhook inbox under the
//! data directory, callback URLs under the server's public URL), and puts
//! them behind one [`ProviderRouter`]: the engine takes one provider, the
//! router hands each call to its campaign's. [`Providers::webhook_router`]
//! serves the adapters' status callbacks, to merge into the API's router.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::http::HttpLimits;
use super::secrets::{MissingSecret, provider_config};
use super::simulated::{SimulatedProvider, SimulationConfig, call_log_path};
use super::webhooks::{self, WebhookEndpoints};
use super::{
    AdapterProvider, AdapterSetup, BoxFuture, PlaceCall, Provider, ProviderEvent, ProviderFailure,
    StatusQuery,
};
use crate::clock::Clock;
use crate::config::{BUILTIN_PLUGINS, PluginSpec, SIMULATED_PROVIDER};
use crate::model::{CampaignSpec, Millis};
use crate::plugin_host::{PluginHost, PluginLimits, PluginSource, declared_source};

/// What providers are built from, besides the campaigns.
pub struct ProviderContext<'a> {
    /// Loads adapter plugins.
    pub host: &'a PluginHost,
    /// The config's `[[plugins]]` (and built-ins campaigns name directly),
    /// as [`crate::config::Config::plugin_specs`] lists them.
    pub plugins: &'a [PluginSpec],
    /// Where provider secrets are read from: the process environment in
    /// production.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The server's data directory; each campaign's provider state (the
    /// webhook inbox, the simulator's call log) lives under
    /// `{data_dir}/providers/{campaign_id}/`.
    pub data_dir: &'a Path,
    /// `[server] public_url`: the base URL providers call back.
    pub public_url: Option<&'a str>,
    /// Limits of the adapters' HTTP requests.
    pub http_limits: HttpLimits,
    pub clock: Arc<dyn Clock>,
}

/// Why a campaign's provider could not be set up. Every message names
/// the campaign.
#[derive(Debug, thiserror::Error)]
pub enum ProviderSetupError {
    #[error(transparent)]
    MissingSecret(#[from] MissingSecret),
    #[error(
        "campaign \"{campaign}\": provider plugin \"{plugin}\" sends status callbacks, which need [server] public_url, the base URL providers reach this server at (e.g. \"https://dialer.example.com\")"
    )]
    NoPublicUrl { campaign: String, plugin: String },
    #[error(
        "campaign \"{campaign}\": provider \"{plugin}\" is not \"simulated\", a [[plugins]] name or a built-in plugin ({builtins})"
    )]
    UnknownPlugin {
        campaign: String,
        plugin: String,
        builtins: String,
    },
    #[error("campaign \"{campaign}\": provider plugin \"{plugin}\" could not be loaded: {message}")]
    Load {
        campaign: String,
        plugin: String,
        message: String,
    },
    #[error("campaign \"{campaign}\": simulation settings: {message}")]
    Simulation { campaign: String, message: String },
    #[error("campaign \"{campaign}\": provider state under \"{}\": {message}", path.display())]
    State {
        campaign: String,
        path: PathBuf,
        message: String,
    },
    #[error(
        "campaign id \"{0}\" is used twice; provider webhooks are routed by campaign id, so it must be unique across workspaces"
    )]
    DuplicateCampaign(String),
}

/// The providers of a set of campaigns.
pub struct Providers {
    router: Arc<ProviderRouter>,
    endpoints: Arc<WebhookEndpoints>,
    adapters: BTreeMap<String, Arc<AdapterProvider>>,
    simulated: BTreeMap<String, Arc<SimulatedProvider>>,
}

impl Providers {
    /// The one provider the engine dials through: routes by campaign.
    pub fn provider(&self) -> Arc<dyn Provider> {
        self.router.clone()
    }

    /// The router itself.
    pub fn router(&self) -> &Arc<ProviderRouter> {
        &self.router
    }

    /// The adapter provider of `campaign_id`, when it dials through one.
    pub fn adapter(&self, campaign_id: &str) -> Option<&Arc<AdapterProvider>> {
        self.adapters.get(campaign_id)
    }

    /// The simulated provider of `campaign_id`, when it is simulated.
    pub fn simulated(&self, campaign_id: &str) -> Option<&Arc<SimulatedProvider>> {
        self.simulated.get(campaign_id)
    }

    /// The webhook endpoints of the adapter campaigns.
    pub fn endpoints(&self) -> &Arc<WebhookEndpoints> {
        &self.endpoints
    }

    /// `POST /v1/webhooks/providers/{campaign_id}` for the adapter
    /// campaigns, state applied: `api::router(state).merge(...)` serves it
    /// beside the API. Other campaign ids are answered 404.
    pub fn webhook_router(&self) -> axum::Router {
        webhooks::router(self.endpoints.clone())
    }
}

/// The provider of each of `campaigns`, behind one router.
pub fn providers_for(
    campaigns: &[CampaignSpec],
    context: &ProviderContext<'_>,
) -> Result<Providers, ProviderSetupError> {
    // Without a public URL no adapter is registered, so the endpoints
    // answer every campaign 404 and the base is never used.
    let endpoints = Arc::new(WebhookEndpoints::new(
        context.public_url.unwrap_or_default(),
        context.clock.clone(),
    ));
    let mut router = ProviderRouter::new();
    let mut adapters = BTreeMap::new();
    let mut simulated = BTreeMap::new();
    for spec in campaigns {
        if router.serves(&spec.id) {
            return Err(ProviderSetupError::DuplicateCampaign(spec.id.clone()));
        }
        let state_dir = campaign_dir(context.data_dir, &spec.id);
        if spec.provider == SIMULATED_PROVIDER {
            let provider = Arc::new(simulated_provider(spec, &state_dir)?);
            router.insert(&spec.id, provider.clone());
            simulated.insert(spec.id.clone(), provider);
            continue;
        }
        let provider = Arc::new(adapter_provider(spec, context, &endpoints, &state_dir)?);
        endpoints.register(provider.clone());
        router.insert(&spec.id, provider.clone());
        adapters.insert(spec.id.clone(), provider);
    }
    Ok(Providers {
        router: Arc::new(router),
        endpoints,
        adapters,
        simulated,
    })
}

/// `{data_dir}/providers/{campaign_id}`, the id encoded so it stays one
/// path component whatever it holds.
fn campaign_dir(data_dir: &Path, campaign_id: &str) -> PathBuf {
    let encoded: String = form_urlencoded::byte_serialize(campaign_id.as_bytes()).collect();
    let encoded = if encoded == "." || encoded == ".." {
        encoded.replace('.', "%2E")
    } else {
        encoded
    };
    data_dir.join("providers").join(encoded)
}

fn simulated_provider(
    spec: &CampaignSpec,
    state_dir: &Path,
) -> Result<SimulatedProvider, ProviderSetupError> {
    let config = SimulationConfig::from_pairs(&spec.provider_config).map_err(|err| {
        ProviderSetupError::Simulation {
            campaign: spec.id.clone(),
            message: err.to_string(),
        }
    })?;
    let state = |message: String| ProviderSetupError::State {
        campaign: spec.id.clone(),
        path: state_dir.to_path_buf(),
        message,
    };
    std::fs::create_dir_all(state_dir).map_err(|err| state(err.to_string()))?;
    // The call log keeps a restart from dialing an attempt id twice.
    SimulatedProvider::new(config)
        .with_call_log(call_log_path(state_dir))
        .map_err(|err| state(format!("the call log cannot be opened: {err}")))
}

fn adapter_provider(
    spec: &CampaignSpec,
    context: &ProviderContext<'_>,
    endpoints: &WebhookEndpoints,
    state_dir: &Path,
) -> Result<AdapterProvider, ProviderSetupError> {
    let (source, limits) = plugin_source(spec, context.plugins)?;
    let Some(_) = context.public_url else {
        return Err(ProviderSetupError::NoPublicUrl {
            campaign: spec.id.clone(),
            plugin: spec.provider.clone(),
        });
    };
    let (config, redactor) = provider_config(spec, context.env)?;
    let plugin = context
        .host
        .load_adapter(&source, &config, limits)
        .map_err(|err| ProviderSetupError::Load {
            campaign: spec.id.clone(),
            plugin: spec.provider.clone(),
            message: redactor.redact(&err.to_string()).into_owned(),
        })?;
    AdapterProvider::new(
        Arc::new(plugin),
        AdapterSetup {
            campaign_id: spec.id.clone(),
            callback_url: endpoints.callback_url(&spec.id),
            allowed_hosts: spec.allowed_hosts.clone(),
            limits: context.http_limits.clone(),
            inbox_path: state_dir.join("inbox.jsonl"),
        },
        redactor,
        context.clock.clone(),
    )
    .map_err(|err| ProviderSetupError::State {
        campaign: spec.id.clone(),
        path: state_dir.to_path_buf(),
        message: err.to_string(),
    })
}

/// Where the campaign's provider plugin comes from and its limits: a
/// `[[plugins]]` entry by name, else a built-in named directly.
fn plugin_source(
    spec: &CampaignSpec,
    plugins: &[PluginSpec],
) -> Result<(PluginSource, PluginLimits), ProviderSetupError> {
    if let Some(declared) = declared_source(plugins, &spec.provider) {
        return Ok(declared);
    }
    if BUILTIN_PLUGINS.contains(&spec.provider.as_str()) {
        return Ok((
            PluginSource::Builtin(spec.provider.clone()),
            PluginLimits::default(),
        ));
    }
    Err(ProviderSetupError::UnknownPlugin {
        campaign: spec.id.clone(),
        plugin: spec.provider.clone(),
        builtins: BUILTIN_PLUGINS.join(", "),
    })
}

/// One provider made of several: each campaign's calls go to its own
/// provider, and a drain collects from all of them.
#[derive(Default)]
pub struct ProviderRouter {
    by_campaign: BTreeMap<String, Arc<dyn Provider>>,
    /// Each distinct provider once, in the order first added: a provider
    /// serving two campaigns must be drained once per tick, since a drain
    /// may acknowledge the previous one.
    distinct: Vec<Arc<dyn Provider>>,
}

impl ProviderRouter {
    /// A router serving no campaign.
    pub fn new() -> Self {
        ProviderRouter::default()
    }

    /// Send `campaign_id`'s calls to `provider`.
    pub fn insert(&mut self, campaign_id: &str, provider: Arc<dyn Provider>) {
        if !self
            .distinct
            .iter()
            .any(|known| Arc::ptr_eq(known, &provider))
        {
            self.distinct.push(provider.clone());
        }
        self.by_campaign.insert(campaign_id.to_string(), provider);
        // A provider replaced for its only campaign is no longer drained.
        let by_campaign = &self.by_campaign;
        self.distinct.retain(|known| {
            by_campaign
                .values()
                .any(|serving| Arc::ptr_eq(serving, known))
        });
    }

    /// True when `campaign_id` has a provider.
    pub fn serves(&self, campaign_id: &str) -> bool {
        self.by_campaign.contains_key(campaign_id)
    }

    fn provider_of(&self, campaign_id: &str) -> Option<&Arc<dyn Provider>> {
        self.by_campaign.get(campaign_id)
    }
}

impl Provider for ProviderRouter {
    fn name(&self) -> &str {
        "router"
    }

    fn place_call(
        &self,
        call: PlaceCall,
        now: Millis,
    ) -> BoxFuture<'_, Result<String, ProviderFailure>> {
        match self.provider_of(&call.campaign_id) {
            Some(provider) => provider.place_call(call, now),
            None => {
                let failure = ProviderFailure::Permanent(format!(
                    "no provider serves campaign \"{}\"",
                    call.campaign_id
                ));
                Box::pin(std::future::ready(Err(failure)))
            }
        }
    }

    fn drain_events(&self, now: Millis) -> Vec<ProviderEvent> {
        let mut events = Vec::new();
        for provider in &self.distinct {
            events.extend(provider.drain_events(now));
        }
        events
    }

    fn poll_status(
        &self,
        call: &StatusQuery<'_>,
    ) -> Option<BoxFuture<'_, Result<Option<ProviderEvent>, ProviderFailure>>> {
        self.provider_of(call.campaign_id)?.poll_status(call)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::provider::CallEventKind;

    fn call(campaign: &str, attempt: &str) -> PlaceCall {
        PlaceCall {
            attempt_id: attempt.to_string(),
            campaign_id: campaign.to_string(),
            batch_id: "b1".to_string(),
            contact_id: format!("contact-{attempt}"),
            to: "+14155550100".to_string(),
            from: "+12125550199".to_string(),
            parameters: Vec::new(),
        }
    }

    fn instant() -> Arc<SimulatedProvider> {
        Arc::new(SimulatedProvider::new(
            SimulationConfig::from_pairs(&[("instant".to_string(), "true".to_string())])
                .expect("instant simulation"),
        ))
    }

    /// A campaign resolved from config text, as outdial would read it.
    fn spec(id: &str, provider: &str) -> CampaignSpec {
        // Adapters need more keys than this builds; tests start from a
        // simulated campaign and change its provider.
        let text = format!(
            "[[workspaces]]\nid = \"w\"\n[[campaigns]]\nid = \"{id}\"\nworkspace = \"w\"\nprovider = {{ plugin = \"{provider}\" }}\n"
        );
        let config = crate::config::Config::parse_str("test.toml", &text).expect("parses");
        config
            .campaign_specs()
            .expect("resolves")
            .pop()
            .expect("one campaign")
    }

    #[tokio::test]
    async fn each_campaign_s_calls_go_to_its_own_provider() {
        let (spring, autumn) = (instant(), instant());
        let mut router = ProviderRouter::new();
        router.insert("spring", spring.clone());
        router.insert("autumn", autumn.clone());
        router
            .place_call(call("spring", "b1-1-1"), 0)
            .await
            .expect("spring places");
        router
            .place_call(call("autumn", "b1-2-1"), 0)
            .await
            .expect("autumn places");
        let spring_ids: Vec<String> = spring
            .drain_events(Millis::MAX / 2)
            .into_iter()
            .map(|e| e.attempt_id)
            .collect();
        assert!(!spring_ids.is_empty());
        assert!(spring_ids.iter().all(|id| id == "b1-1-1"), "{spring_ids:?}");
        let autumn_ids: Vec<String> = autumn
            .drain_events(Millis::MAX / 2)
            .into_iter()
            .map(|e| e.attempt_id)
            .collect();
        assert!(autumn_ids.iter().all(|id| id == "b1-2-1"), "{autumn_ids:?}");
    }

    #[tokio::test]
    async fn a_drain_merges_every_provider_and_a_shared_one_is_drained_once() {
        let (shared, own) = (instant(), instant());
        let mut router = ProviderRouter::new();
        router.insert("spring", shared.clone());
        router.insert("summer", shared.clone());
        router.insert("autumn", own.clone());
        for (campaign, attempt) in [
            ("spring", "b1-1-1"),
            ("summer", "b2-1-1"),
            ("autumn", "b3-1-1"),
        ] {
            router
                .place_call(call(campaign, attempt), 0)
                .await
                .expect("placed");
        }
        let events = router.drain_events(Millis::MAX / 2);
        let ended: Vec<&str> = events
            .iter()
            .filter(|e| matches!(e.kind, CallEventKind::Ended(_)))
            .map(|e| e.attempt_id.as_str())
            .collect();
        let mut sorted = ended.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            ["b1-1-1", "b2-1-1", "b3-1-1"],
            "each call ends once"
        );
        assert!(router.drain_events(Millis::MAX / 2).is_empty());
    }

    #[tokio::test]
    async fn a_call_of_a_campaign_without_provider_is_refused_permanently() {
        let router = ProviderRouter::new();
        let failure = router
            .place_call(call("winter", "b9-1-1"), 0)
            .await
            .expect_err("no provider");
        assert_eq!(
            failure,
            ProviderFailure::Permanent("no provider serves campaign \"winter\"".to_string())
        );
        assert!(
            router
                .poll_status(&StatusQuery {
                    campaign_id: "winter",
                    provider_call_id: "sim-1",
                    attempt_id: "b9-1-1",
                })
                .is_none()
        );
    }

    fn context<'a>(
        host: &'a PluginHost,
        data_dir: &'a Path,
        public_url: Option<&'a str>,
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> ProviderContext<'a> {
        ProviderContext {
            host,
            plugins: &[],
            env,
            data_dir,
            public_url,
            http_limits: HttpLimits::default(),
            clock: Arc::new(ManualClock::new(0)),
        }
    }

    fn twilio(id: &str) -> CampaignSpec {
        CampaignSpec {
            provider_config: vec![
                ("account_sid".to_string(), "AC0123".to_string()),
                (
                    "twiml_url".to_string(),
                    "https://voice.example.com/twiml".to_string(),
                ),
            ],
            provider_secrets: vec![("auth_token".to_string(), "TWILIO_TOKEN".to_string())],
            allowed_hosts: vec!["api.twilio.com".to_string()],
            provider: "provider-twilio".to_string(),
            ..spec(id, SIMULATED_PROVIDER)
        }
    }

    fn setup_error(
        campaigns: &[CampaignSpec],
        public_url: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> String {
        let host = PluginHost::new().expect("plugin host");
        let dir = tempfile::tempdir().expect("dir");
        match providers_for(campaigns, &context(&host, dir.path(), public_url, env)) {
            Ok(_) => panic!("the providers were set up"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn a_missing_secret_names_the_campaign_and_the_variable() {
        assert_eq!(
            setup_error(
                &[twilio("renewals")],
                Some("https://dialer.example.com"),
                &|_| { None }
            ),
            "campaign \"renewals\": provider secret \"auth_token\" reads environment variable TWILIO_TOKEN, which is not set or empty"
        );
    }

    #[test]
    fn an_adapter_without_public_url_is_refused_by_name() {
        assert_eq!(
            setup_error(&[twilio("renewals")], None, &|_| Some("token".to_string())),
            "campaign \"renewals\": provider plugin \"provider-twilio\" sends status callbacks, which need [server] public_url, the base URL providers reach this server at (e.g. \"https://dialer.example.com\")"
        );
    }

    #[test]
    fn an_unknown_provider_plugin_is_named() {
        let message = setup_error(
            &[CampaignSpec {
                provider: "provider-telnyx".to_string(),
                ..spec("renewals", SIMULATED_PROVIDER)
            }],
            Some("https://dialer.example.com"),
            &|_| None,
        );
        assert!(
            message.starts_with(
                "campaign \"renewals\": provider \"provider-telnyx\" is not \"simulated\", a [[plugins]] name or a built-in plugin ("
            ),
            "{message}"
        );
    }

    #[test]
    fn bad_simulation_settings_name_the_campaign() {
        let mut simulated = spec("demo", SIMULATED_PROVIDER);
        simulated.provider_config = vec![("max_calls_per_second".to_string(), "0".to_string())];
        let message = setup_error(&[simulated], None, &|_| None);
        assert!(
            message.starts_with("campaign \"demo\": simulation settings: "),
            "{message}"
        );
    }

    #[test]
    fn a_campaign_id_used_twice_is_refused() {
        let first = spec("demo", SIMULATED_PROVIDER);
        let second = CampaignSpec {
            workspace: "other".to_string(),
            ..first.clone()
        };
        assert_eq!(
            setup_error(&[first, second], None, &|_| None),
            "campaign id \"demo\" is used twice; provider webhooks are routed by campaign id, so it must be unique across workspaces"
        );
    }

    #[test]
    fn each_campaign_gets_its_provider_and_adapters_their_callback_url() {
        let host = PluginHost::new().expect("plugin host");
        let dir = tempfile::tempdir().expect("dir");
        let env = |name: &str| (name == "TWILIO_TOKEN").then(|| "s3cret".to_string());
        let providers = providers_for(
            &[spec("demo", SIMULATED_PROVIDER), twilio("renewals")],
            &context(&host, dir.path(), Some("https://dialer.example.com/"), &env),
        )
        .expect("providers");
        assert!(providers.simulated("demo").is_some());
        assert!(providers.adapter("demo").is_none());
        let adapter = providers.adapter("renewals").expect("an adapter");
        assert_eq!(adapter.campaign_id(), "renewals");
        assert_eq!(
            providers.endpoints().callback_url("renewals"),
            "https://dialer.example.com/v1/webhooks/providers/renewals"
        );
        assert!(dir.path().join("providers/renewals/inbox.jsonl").exists());
        assert!(
            dir.path()
                .join("providers/demo")
                .join("simulated-calls.log")
                .exists()
        );
        assert!(providers.router().serves("demo") && providers.router().serves("renewals"));
    }
}
