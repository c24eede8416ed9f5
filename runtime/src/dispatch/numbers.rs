//! Caller-id pools: which from-number an attempt uses.
//!
//! A pool is the campaign's numbers, or a batch's override. A number is
//! usable when enabled and not resting, by config or by the operator state
//! kept in the store. Strategies: round-robin, weighted (smooth weighted
//! round-robin, so shares are exact over every run of `total weight`
//! picks), sticky (a retry keeps the contact's previous number while it is
//! usable) and same country (a number of the contact's country whenever one
//! is usable; only when none is does a call cross a border).

use std::collections::HashMap;

use crate::model::{CampaignSpec, FromNumber, Millis, NumberStrategy};
use crate::store::{BatchRecord, NumberState};

/// The pool and strategy a batch dials with: its own override, else the
/// campaign's.
pub fn pool_of<'a>(
    spec: &'a CampaignSpec,
    batch: &'a BatchRecord,
) -> (&'a [FromNumber], NumberStrategy) {
    (
        batch.numbers.as_deref().unwrap_or(&spec.numbers),
        batch.number_strategy.unwrap_or(spec.number_strategy),
    )
}

/// What a pool answered for one dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// No pool configured: the provider's default caller id.
    ProviderDefault,
    Number(String),
    /// Every number is disabled or resting; the earliest rest end, if any
    /// number will come back by itself.
    NoneUsable {
        until: Option<Millis>,
    },
}

/// Rotation state of one pool. Memory is bounded by the pool's size.
#[derive(Debug, Default)]
pub struct Rotation {
    turn: usize,
    /// Smooth weighted round-robin credit per number.
    credit: HashMap<String, i64>,
    /// Country of each pool number, worked out once.
    countries: HashMap<String, Option<Country>>,
}

/// Where a number belongs: its calling code, and its ISO region ("US",
/// "CA") when the numbering plan tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    pub code: u16,
    pub region: Option<String>,
}

impl Country {
    /// Same calling code, and the same region when both regions are known
    /// (so Canada and the US, which share +1, stay apart).
    pub fn matches(&self, other: &Country) -> bool {
        self.code == other.code
            && match (&self.region, &other.region) {
                (Some(mine), Some(theirs)) => mine == theirs,
                _ => true,
            }
    }
}

/// The country of an E.164 number.
pub fn country_of(phone: &str) -> Option<Country> {
    let number = phonenumber::parse(None, phone).ok()?;
    let country = number.country();
    Some(Country {
        code: country.code(),
        region: country.id().map(|id| format!("{id:?}")),
    })
}

/// Whether `number` may be used at `now`, the operator's state winning
/// over the config.
pub fn is_usable(number: &FromNumber, states: &HashMap<String, NumberState>, now: Millis) -> bool {
    let (enabled, rested_until) = match states.get(&number.number) {
        Some(state) => (state.enabled, state.rested_until),
        None => (number.enabled, number.rested_until),
    };
    enabled && rested_until.is_none_or(|until| until <= now)
}

impl Rotation {
    /// The caller id for a dial to `to`, whose previous attempt (if any)
    /// used `previous`.
    pub fn pick(
        &mut self,
        pool: &[FromNumber],
        strategy: NumberStrategy,
        states: &HashMap<String, NumberState>,
        to: &str,
        previous: Option<&str>,
        now: Millis,
    ) -> Pick {
        if pool.is_empty() {
            return Pick::ProviderDefault;
        }
        let usable: Vec<&FromNumber> = pool
            .iter()
            .filter(|number| is_usable(number, states, now))
            .collect();
        if usable.is_empty() {
            let until = pool
                .iter()
                .filter_map(|number| {
                    let (enabled, rested_until) = match states.get(&number.number) {
                        Some(state) => (state.enabled, state.rested_until),
                        None => (number.enabled, number.rested_until),
                    };
                    rested_until.filter(|_| enabled)
                })
                .min();
            return Pick::NoneUsable { until };
        }
        let chosen = match strategy {
            NumberStrategy::RoundRobin => self.next_in(&usable),
            NumberStrategy::Weighted => self.weighted(&usable),
            NumberStrategy::Sticky => match previous {
                Some(previous) if usable.iter().any(|n| n.number == previous) => {
                    previous.to_string()
                }
                _ => self.next_in(&usable),
            },
            NumberStrategy::SameCountry => {
                let country = country_of(to);
                let countries = &mut self.countries;
                let local: Vec<&FromNumber> = match &country {
                    Some(country) => usable
                        .iter()
                        .copied()
                        .filter(|number| {
                            countries
                                .entry(number.number.clone())
                                .or_insert_with(|| country_of(&number.number))
                                .as_ref()
                                .is_some_and(|theirs| theirs.matches(country))
                        })
                        .collect(),
                    None => Vec::new(),
                };
                if local.is_empty() {
                    self.next_in(&usable)
                } else {
                    self.next_in(&local)
                }
            }
        };
        Pick::Number(chosen)
    }

    fn next_in(&mut self, usable: &[&FromNumber]) -> String {
        let chosen = usable[self.turn % usable.len()].number.clone();
        self.turn = self.turn.wrapping_add(1);
        chosen
    }

    fn weighted(&mut self, usable: &[&FromNumber]) -> String {
        let total: i64 = usable.iter().map(|n| i64::from(n.weight.max(1))).sum();
        let mut best: Option<(&str, i64)> = None;
        for number in usable {
            let credit = self.credit.entry(number.number.clone()).or_insert(0);
            *credit += i64::from(number.weight.max(1));
            if best.is_none_or(|(_, top)| *credit > top) {
                best = Some((number.number.as_str(), *credit));
            }
        }
        let (chosen, _) = best.expect("usable is not empty");
        if let Some(credit) = self.credit.get_mut(chosen) {
            *credit -= total;
        }
        chosen.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(numbers: &[(&str, u32)]) -> Vec<FromNumber> {
        numbers
            .iter()
            .map(|(number, weight)| FromNumber {
                number: number.to_string(),
                weight: *weight,
                enabled: true,
                rested_until: None,
            })
            .collect()
    }

    fn picks(
        rotation: &mut Rotation,
        pool: &[FromNumber],
        strategy: NumberStrategy,
        to: &str,
        count: usize,
    ) -> Vec<String> {
        (0..count)
            .map(
                |_| match rotation.pick(pool, strategy, &HashMap::new(), to, None, 0) {
                    Pick::Number(number) => number,
                    other => panic!("no number: {other:?}"),
                },
            )
            .collect()
    }

    const A: &str = "+14155550100";
    const B: &str = "+14155550101";
    const C: &str = "+14155550102";

    #[test]
    fn round_robin_takes_every_number_in_turn() {
        let pool = pool(&[(A, 1), (B, 5), (C, 1)]);
        let got = picks(
            &mut Rotation::default(),
            &pool,
            NumberStrategy::RoundRobin,
            A,
            6,
        );
        assert_eq!(got, [A, B, C, A, B, C]);
    }

    #[test]
    fn weighted_shares_are_exact_over_each_round_of_total_weight() {
        let pool = pool(&[(A, 5), (B, 3), (C, 2)]);
        let mut rotation = Rotation::default();
        for _ in 0..4 {
            let round = picks(&mut rotation, &pool, NumberStrategy::Weighted, A, 10);
            let share = |n: &str| round.iter().filter(|p| *p == n).count();
            assert_eq!((share(A), share(B), share(C)), (5, 3, 2));
        }
    }

    #[test]
    fn sticky_keeps_the_previous_number_while_it_is_usable() {
        let pool = pool(&[(A, 1), (B, 1)]);
        let mut rotation = Rotation::default();
        let mut states = HashMap::new();
        for _ in 0..3 {
            assert_eq!(
                rotation.pick(&pool, NumberStrategy::Sticky, &states, A, Some(B), 0),
                Pick::Number(B.to_string())
            );
        }
        states.insert(
            B.to_string(),
            NumberState {
                enabled: true,
                rested_until: Some(100),
            },
        );
        assert_eq!(
            rotation.pick(&pool, NumberStrategy::Sticky, &states, A, Some(B), 50),
            Pick::Number(A.to_string()),
            "a resting number gives way"
        );
        assert_eq!(
            rotation.pick(&pool, NumberStrategy::Sticky, &states, A, Some(B), 100),
            Pick::Number(B.to_string()),
            "and is back once the rest ends"
        );
    }

    #[test]
    fn same_country_never_crosses_a_border_while_a_local_number_is_usable() {
        let london = "+442079460958";
        let toronto = "+14165550100";
        let pool = pool(&[(A, 1), (london, 1), (toronto, 1), (B, 1)]);
        let mut rotation = Rotation::default();
        let us = picks(
            &mut rotation,
            &pool,
            NumberStrategy::SameCountry,
            "+12125550100",
            8,
        );
        assert!(us.iter().all(|n| n == A || n == B), "{us:?}");
        assert!(us.contains(&A.to_string()) && us.contains(&B.to_string()));
        let uk = picks(
            &mut rotation,
            &pool,
            NumberStrategy::SameCountry,
            "+442071234567",
            3,
        );
        assert!(uk.iter().all(|n| n == london), "{uk:?}");
        let canada = picks(
            &mut rotation,
            &pool,
            NumberStrategy::SameCountry,
            "+16045550100",
            3,
        );
        assert!(
            canada.iter().all(|n| n == toronto),
            "Canada shares +1 with the US but is its own country: {canada:?}"
        );
        // With no French number, any usable one.
        let france = picks(
            &mut rotation,
            &pool,
            NumberStrategy::SameCountry,
            "+33142685300",
            4,
        );
        assert_eq!(france.len(), 4);
    }

    #[test]
    fn a_pool_with_nothing_usable_says_when_a_number_comes_back() {
        let mut pool = pool(&[(A, 1), (B, 1)]);
        pool[0].enabled = false;
        pool[1].rested_until = Some(5_000);
        let mut rotation = Rotation::default();
        let states = HashMap::new();
        assert_eq!(
            rotation.pick(&pool, NumberStrategy::RoundRobin, &states, A, None, 0),
            Pick::NoneUsable { until: Some(5_000) }
        );
        let mut states = HashMap::new();
        states.insert(
            B.to_string(),
            NumberState {
                enabled: false,
                rested_until: None,
            },
        );
        assert_eq!(
            rotation.pick(&pool, NumberStrategy::RoundRobin, &states, A, None, 9_000),
            Pick::NoneUsable { until: None },
            "the operator's state wins over the config"
        );
        assert_eq!(
            rotation.pick(&[], NumberStrategy::RoundRobin, &states, A, None, 0),
            Pick::ProviderDefault
        );
    }
}
