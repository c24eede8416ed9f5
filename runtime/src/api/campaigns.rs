//! Campaigns: declared in config, read through the API.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::batches::CountersView;
use super::body::StrictPath;
use super::{ApiResult, AppState, Caller};
use crate::dispatch::statistics::{Statistics, campaign_statistics};
use crate::model::CampaignSpec;

#[derive(Serialize)]
pub struct CampaignList {
    campaigns: Vec<CampaignSpec>,
}

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

pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(campaign_id): StrictPath<String>,
) -> ApiResult<Json<CampaignSpec>> {
    Ok(Json(state.campaign(&caller, &campaign_id)?.clone()))
}

#[derive(Serialize)]
pub struct CampaignStats {
    campaign_id: String,
    #[serde(flatten)]
    counters: CountersView,
    /// Monitoring metrics of the campaign across its batches.
    metrics: Statistics,
}

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
