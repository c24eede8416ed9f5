//! Campaigns: declared in config, read through the API.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::ErrorBody;
use super::batches::CountersView;
use super::body::StrictPath;
use super::{ApiResult, AppState, Caller};
use crate::model::CampaignSpec;
use crate::reporting::statistics::{Statistics, campaign_statistics};

/// The workspace's campaigns.
#[derive(Serialize, ToSchema)]
pub struct CampaignList {
    campaigns: Vec<CampaignSpec>,
}

#[utoipa::path(
    get,
    path = "/v1/campaigns",
    operation_id = "list_campaigns",
    tag = "campaigns",
    summary = "The workspace's campaigns",
    responses((status = 200, description = "The campaigns, by id", body = CampaignList)),
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Json<CampaignList> {
    let mut campaigns: Vec<CampaignSpec> = state
        .inner
        .campaigns
        .values()
        .filter(|spec| spec.workspace == caller.workspace)
        .cloned()
        .collect();
    campaigns.sort_by(|a, b| a.id.cmp(&b.id));
    Json(CampaignList { campaigns })
}

#[utoipa::path(
    get,
    path = "/v1/campaigns/{campaign_id}",
    operation_id = "get_campaign",
    tag = "campaigns",
    summary = "One campaign's settings",
    params(("campaign_id" = String, Path, description = "The campaign, as its config names it")),
    responses(
        (status = 200, description = "The campaign", body = CampaignSpec),
        (status = 404, description = "No such campaign in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(campaign_id): StrictPath<String>,
) -> ApiResult<Json<CampaignSpec>> {
    Ok(Json(state.campaign(&caller, &campaign_id)?.clone()))
}

/// A campaign's counters and metrics over all its batches.
#[derive(Serialize, ToSchema)]
pub struct CampaignStats {
    campaign_id: String,
    #[serde(flatten)]
    counters: CountersView,
    /// Monitoring metrics of the campaign across its batches.
    metrics: Statistics,
}

#[utoipa::path(
    get,
    path = "/v1/campaigns/{campaign_id}/stats",
    operation_id = "campaign_stats",
    tag = "campaigns",
    summary = "A campaign's counters over all its batches",
    params(("campaign_id" = String, Path, description = "The campaign, as its config names it")),
    responses(
        (status = 200, description = "Counters and monitoring metrics", body = CampaignStats),
        (status = 404, description = "No such campaign in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(campaign_id): StrictPath<String>,
) -> ApiResult<Json<CampaignStats>> {
    let spec = state.campaign(&caller, &campaign_id)?.clone();
    let now = state.inner.clock.now();
    let (counters, metrics) = state
        .blocking(move |store| {
            Ok((
                store.campaign_counters(&spec.workspace, &spec.id)?,
                campaign_statistics(store, &spec, now)?,
            ))
        })
        .await?;
    Ok(Json(CampaignStats {
        campaign_id,
        counters: CountersView::new(&counters),
        metrics,
    }))
}
