//! Budgets, goals and A/B variant assignment: the campaign policy that
//! decides whether a batch should dial at all, and with what.

use serde::Serialize;

use crate::model::{Blocker, CampaignSpec, ContactStatus, Goal, Variant};
use crate::store::{BatchRecord, Store, StoreError};

/// Whose money or goal a figure is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Campaign,
    Batch,
}

/// A spending limit and what has been spent against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BudgetProgress {
    pub scope: Scope,
    pub limit_micros: u64,
    pub spent_micros: u64,
    /// New dials stop once spent reaches the limit.
    pub exhausted: bool,
}

/// A success target and how far it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GoalProgress {
    pub scope: Scope,
    pub target: u64,
    /// Contacts that reached a success label.
    pub reached: u64,
    pub success_labels: Vec<String>,
    pub met: bool,
}

/// Every budget that applies to `batch`: its own and its campaign's.
pub fn budgets(
    store: &dyn Store,
    spec: &CampaignSpec,
    batch: &BatchRecord,
) -> Result<Vec<BudgetProgress>, StoreError> {
    let mut out = Vec::new();
    if let Some(limit) = batch.budget_micros {
        let spent = store.batch_counters(&batch.id)?.cost_micros;
        out.push(BudgetProgress {
            scope: Scope::Batch,
            limit_micros: limit,
            spent_micros: spent,
            exhausted: spent >= limit,
        });
    }
    if let Some(limit) = spec.budget_micros {
        let spent = store
            .campaign_counters(&batch.workspace, &batch.campaign_id)?
            .cost_micros;
        out.push(BudgetProgress {
            scope: Scope::Campaign,
            limit_micros: limit,
            spent_micros: spent,
            exhausted: spent >= limit,
        });
    }
    Ok(out)
}

/// Every goal that applies to `batch`: its own and its campaign's.
pub fn goals(
    store: &dyn Store,
    spec: &CampaignSpec,
    batch: &BatchRecord,
) -> Result<Vec<GoalProgress>, StoreError> {
    let mut out = Vec::new();
    let progress = |scope, goal: &Goal, reached: u64| GoalProgress {
        scope,
        target: goal.target,
        reached,
        success_labels: goal.success_labels.clone(),
        met: reached >= goal.target,
    };
    if let Some(goal) = &batch.goal {
        let reached = store.batch_totals(&batch.id)?.successful_contacts;
        out.push(progress(Scope::Batch, goal, reached));
    }
    if let Some(goal) = &spec.goal {
        let reached = store
            .campaign_totals(&batch.workspace, &batch.campaign_id)?
            .successful_contacts;
        out.push(progress(Scope::Campaign, goal, reached));
    }
    Ok(out)
}

/// Why `batch` must not dial at all now, if a goal is met or a budget
/// spent. A met goal wins: it ends the batch, a spent budget only waits.
pub fn halt(
    store: &dyn Store,
    spec: &CampaignSpec,
    batch: &BatchRecord,
) -> Result<Option<Blocker>, StoreError> {
    if (batch.goal.is_some() || spec.goal.is_some())
        && goals(store, spec, batch)?.iter().any(|goal| goal.met)
    {
        return Ok(Some(Blocker::GoalReached));
    }
    if (batch.budget_micros.is_some() || spec.budget_micros.is_some())
        && budgets(store, spec, batch)?
            .iter()
            .any(|budget| budget.exhausted)
    {
        return Ok(Some(Blocker::BudgetExhausted));
    }
    Ok(None)
}

/// Whether an attempt that ended with `label`, leaving its contact in
/// `status`, is a success: a label of the batch's goal, else of the
/// campaign's; with no goal at all, a contact completed by the attempt.
pub fn is_success(
    spec: &CampaignSpec,
    batch: &BatchRecord,
    label: Option<&str>,
    status: ContactStatus,
) -> bool {
    match batch.goal.as_ref().or(spec.goal.as_ref()) {
        Some(goal) => label.is_some_and(|label| goal.is_success(label)),
        None => status == ContactStatus::Completed,
    }
}

/// 64-bit FNV-1a: fixed forever, unlike std's hasher, so an assignment
/// made by one build is the one every later build makes.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The splitmix64 finalizer: FNV's low bits follow the last bytes too
/// closely for `% total` over ids like "c1", "c2", ...
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The variant a contact belongs to, by weight, from a hash of its batch
/// and contact ids: the same on every run and after every restart, and
/// without any counter in memory.
pub fn assign_variant<'a>(
    variants: &'a [Variant],
    batch_id: &str,
    contact_id: &str,
) -> Option<&'a Variant> {
    let total: u64 = variants.iter().map(|v| u64::from(v.weight)).sum();
    if total == 0 {
        return None;
    }
    let mut point = mix(fnv1a(&[batch_id, contact_id])) % total;
    variants.iter().find(|variant| {
        let weight = u64::from(variant.weight);
        if point < weight {
            true
        } else {
            point -= weight;
            false
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variants(weights: &[(&str, u32)]) -> Vec<Variant> {
        weights
            .iter()
            .map(|(name, weight)| Variant {
                name: name.to_string(),
                weight: *weight,
                parameters: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn variants_are_assigned_in_proportion_to_their_weights() {
        let variants = variants(&[("A", 3), ("B", 1)]);
        for batch in ["btc_1", "btc_00f3a9", "btc_ffffffffffffffff"] {
            let a = (0..8_000)
                .filter(|i| {
                    assign_variant(&variants, batch, &format!("c{i}"))
                        .expect("weights")
                        .name
                        == "A"
                })
                .count();
            assert!((5_800..=6_200).contains(&a), "{a} of 8000 in A at 3:1");
        }
    }

    #[test]
    fn the_assignment_is_a_pure_function_of_batch_and_contact() {
        let variants = variants(&[("A", 1), ("B", 1)]);
        // Pinned values: a change of hash would move contacts between arms
        // of a running experiment.
        assert_eq!(fnv1a(&["btc_1", "c1"]), fnv1a(&["btc_1", "c1"]));
        assert_ne!(fnv1a(&["btc_1", "c1"]), fnv1a(&["btc_1c", "1"]));
        assert_eq!(fnv1a(&[""]), 0xaf63_bd4c_8601_b7df);
        let first: Vec<_> = (0..50)
            .map(|i| assign_variant(&variants, "b", &i.to_string()).map(|v| v.name.clone()))
            .collect();
        let again: Vec<_> = (0..50)
            .map(|i| assign_variant(&variants, "b", &i.to_string()).map(|v| v.name.clone()))
            .collect();
        assert_eq!(first, again);
        assert!(assign_variant(&[], "b", "c").is_none());
    }
}
