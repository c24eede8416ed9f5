//! Labels ended calls with rules on the SIP code, talk time, answering
//! machine detection and transcript keywords, and scores them.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use outdial_sdk::prelude::*;

/// Every label this classifier may return.
pub const LABELS: [&str; 11] = [
    "human_answered",
    "voicemail",
    "call_screening",
    "busy",
    "no_answer",
    "failed",
    "wrong_number",
    "do_not_call",
    "interested",
    "not_interested",
    "callback_requested",
];

/// Transcript phrase lists, strongest intent first: the first list with a
/// match decides the label.
const PHRASE_KEYS: [(&str, &str, &str); 5] = [
    (
        "do_not_call_phrases",
        "do_not_call",
        "stop calling|do not call|don't call|remove me|take me off",
    ),
    (
        "wrong_number_phrases",
        "wrong_number",
        "wrong number|no one by that name|doesn't live here",
    ),
    (
        "callback_phrases",
        "callback_requested",
        "call me back|call back later|call me later|not a good time|busy right now",
    ),
    (
        "not_interested_phrases",
        "not_interested",
        "not interested|no thanks|no thank you",
    ),
    (
        "interested_phrases",
        "interested",
        "interested|sign me up|sounds good|tell me more|yes please",
    ),
];

const POSITIVE_WORDS: [&str; 10] = [
    "great",
    "good",
    "thanks",
    "thank",
    "love",
    "happy",
    "yes",
    "sure",
    "perfect",
    "interested",
];
const NEGATIVE_WORDS: [&str; 10] = [
    "no", "not", "stop", "angry", "annoying", "bad", "never", "hate", "remove", "wrong",
];

pub struct Rules {
    /// Every phrase of every list, lowercased, in one automaton, so the
    /// transcript is scanned once however many phrases there are.
    phrases: AhoCorasick,
    /// For each pattern of `phrases`, the index in `PHRASE_KEYS` of the list
    /// it came from: lower is stronger.
    list_of_phrase: Vec<usize>,
    callback_delay_ms: i64,
    voicemail_is_terminal: bool,
    short_call_ms: u64,
}

impl Plugin for Rules {
    fn metadata() -> Metadata {
        let mut metadata = Metadata::classifier("classify-rules", env!("CARGO_PKG_VERSION"))
            .labels(&LABELS)
            .key("callback_delay", false, "When a callback is requested, call back after this long. Default: 1d.")
            .key("voicemail_is_terminal", false, "Whether reaching voicemail ends the contact. Default: false.")
            .key("short_call", false, "A human answer shorter than this with no intent found counts as not interested. Default: 5s.");
        for (key, label, default) in PHRASE_KEYS {
            metadata = metadata.key(
                key,
                false,
                &format!(
                    "Transcript phrases, separated by |, that mean {label}. Default: \"{default}\"."
                ),
            );
        }
        metadata
    }

    fn configure(config: &Config) -> Result<Self, PluginError> {
        let mut patterns = Vec::new();
        let mut list_of_phrase = Vec::new();
        for (list, (key, _, default)) in PHRASE_KEYS.iter().enumerate() {
            for phrase in config.get(key).unwrap_or(default).split('|') {
                let phrase = phrase.trim().to_lowercase();
                if !phrase.is_empty() {
                    patterns.push(phrase);
                    list_of_phrase.push(list);
                }
            }
        }
        // Standard semantics report every occurrence of every phrase (the
        // overlapping search below), as one `contains` per phrase would. A
        // contiguous NFA, not the DFA the builder would pick for so few
        // phrases: it builds in a fraction of the time, and every new
        // instance builds its own.
        let phrases = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&patterns)
            .map_err(|err| PluginError::InvalidConfig(format!("transcript phrases: {err}")))?;
        let short_call_ms = config.duration_ms_or("short_call", 5 * SECOND_MS)?;
        Ok(Rules {
            phrases,
            list_of_phrase,
            callback_delay_ms: config.duration_ms_or("callback_delay", DAY_MS)?,
            voicemail_is_terminal: config.parse_or("voicemail_is_terminal", false)?,
            short_call_ms: short_call_ms.max(0) as u64,
        })
    }
}

impl Classifier for Rules {
    fn classify(&self, input: &ClassifyInput) -> Result<Disposition, PluginError> {
        let attempt = &input.ended;
        let mut disposition = match attempt.outcome {
            CallOutcome::Busy => Disposition::new("busy", false),
            CallOutcome::NoAnswer => Disposition::new("no_answer", false),
            CallOutcome::Failed | CallOutcome::Canceled | CallOutcome::Unknown => {
                match attempt.sip_code {
                    // Not found, address incomplete, does not exist anywhere.
                    Some(404 | 484 | 604) => Disposition::new("wrong_number", true),
                    Some(486 | 600) => Disposition::new("busy", false),
                    Some(408 | 480) => Disposition::new("no_answer", false),
                    _ => Disposition::new("failed", false),
                }
            }
            CallOutcome::Answered => match attempt.machine_detection {
                MachineDetection::Machine | MachineDetection::Fax => {
                    Disposition::new("voicemail", self.voicemail_is_terminal)
                }
                MachineDetection::CallScreening => Disposition::new("call_screening", false),
                _ => self.classify_conversation(attempt, input.transcript()),
            },
        };
        if let Some(transcript) = input.transcript() {
            disposition.sentiment = sentiment(transcript);
        }
        disposition.score = Some(score(&disposition.label));
        Ok(disposition)
    }
}

impl Rules {
    fn classify_conversation(
        &self,
        attempt: &EndedAttempt,
        transcript: Option<&str>,
    ) -> Disposition {
        let transcript = transcript.unwrap_or("").to_lowercase();
        let mut strongest: Option<usize> = None;
        for found in self.phrases.find_overlapping_iter(&transcript) {
            let list = self.list_of_phrase[found.pattern()];
            if strongest.is_none_or(|strongest| list < strongest) {
                strongest = Some(list);
                if list == 0 {
                    break;
                }
            }
        }
        let intent = strongest.map(|list| PHRASE_KEYS[list].1);
        match intent {
            Some("callback_requested") => {
                let mut disposition = Disposition::new("callback_requested", false);
                disposition.follow_up_at = Some(attempt.ended_at + self.callback_delay_ms);
                disposition
            }
            Some(label) => Disposition::new(label, true),
            None if attempt.talk_ms < self.short_call_ms => {
                Disposition::new("not_interested", true)
            }
            None => Disposition::new("human_answered", true),
        }
    }
}

fn score(label: &str) -> f32 {
    match label {
        "interested" => 0.9,
        "callback_requested" => 0.6,
        "human_answered" => 0.5,
        "not_interested" => 0.2,
        _ => 0.0,
    }
}

/// Share of positive minus negative words, in [-1, 1]; none without any.
fn sentiment(transcript: &str) -> Option<f32> {
    let (mut positive, mut negative) = (0u32, 0u32);
    for word in transcript
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|word| !word.is_empty())
    {
        if is_one_of(word, &POSITIVE_WORDS) {
            positive += 1;
        } else if is_one_of(word, &NEGATIVE_WORDS) {
            negative += 1;
        }
    }
    let total = positive + negative;
    (total > 0).then(|| (positive as f32 - negative as f32) / total as f32)
}

/// Whether `word`, lowercased, is one of `words` (all lowercase ASCII).
/// An ASCII word is compared in place; only other words pay for a
/// lowercased copy, since a non-ASCII letter may lowercase to ASCII (the
/// Kelvin sign to `k`).
fn is_one_of(word: &str, words: &[&str]) -> bool {
    if word.is_ascii() {
        words.iter().any(|known| known.eq_ignore_ascii_case(word))
    } else {
        let word = word.to_lowercase();
        words.contains(&word.as_str())
    }
}

outdial_sdk::export_classifier!(Rules);

#[cfg(test)]
mod tests {
    use super::*;
    use outdial_sdk::testing::{classify_input, plain_attempt};

    fn classify(attempt: &Attempt) -> Disposition {
        let rules = Rules::configure(&Config::default()).expect("defaults are valid");
        rules
            .classify(&classify_input(attempt.clone()))
            .expect("classifies")
    }

    fn answered_saying(transcript: &str) -> Attempt {
        let mut attempt = plain_attempt(1, CallOutcome::Answered);
        attempt.transcript = Some(transcript.to_string());
        attempt
    }

    #[test]
    fn voicemail_and_call_screening_are_not_a_human_answer() {
        let mut voicemail = plain_attempt(1, CallOutcome::Answered);
        voicemail.machine_detection = MachineDetection::Machine;
        assert_eq!(classify(&voicemail).label, "voicemail");
        assert!(!classify(&voicemail).terminal);
        let mut screened = plain_attempt(1, CallOutcome::Answered);
        screened.machine_detection = MachineDetection::CallScreening;
        assert_eq!(classify(&screened).label, "call_screening");
    }

    #[test]
    fn sip_codes_say_wrong_number_busy_or_no_answer() {
        let mut failed = plain_attempt(1, CallOutcome::Failed);
        failed.sip_code = Some(404);
        assert_eq!(classify(&failed).label, "wrong_number");
        assert!(classify(&failed).terminal);
        failed.sip_code = Some(486);
        assert_eq!(classify(&failed).label, "busy");
        failed.sip_code = Some(480);
        assert_eq!(classify(&failed).label, "no_answer");
        failed.sip_code = Some(503);
        assert_eq!(classify(&failed).label, "failed");
    }

    #[test]
    fn the_strongest_intent_in_the_transcript_wins() {
        let dnc = classify(&answered_saying("I'm not interested, stop calling me"));
        assert_eq!(dnc.label, "do_not_call");
        assert!(dnc.terminal);
        let interested = classify(&answered_saying("Sounds good, tell me more"));
        assert_eq!(interested.label, "interested");
        assert_eq!(interested.score, Some(0.9));
        assert!(interested.sentiment.unwrap() > 0.0);
    }

    #[test]
    fn a_callback_request_carries_its_follow_up_time() {
        let attempt = answered_saying("Not a good time, can you call me back tomorrow?");
        let disposition = classify(&attempt);
        assert_eq!(disposition.label, "callback_requested");
        assert_eq!(disposition.follow_up_at, Some(attempt.ended_at + DAY_MS));
        assert!(!disposition.terminal);
    }

    #[test]
    fn every_outcome_gets_a_declared_label() {
        for outcome in [
            CallOutcome::Answered,
            CallOutcome::Busy,
            CallOutcome::NoAnswer,
            CallOutcome::Failed,
            CallOutcome::Canceled,
            CallOutcome::Unknown,
        ] {
            let label = classify(&plain_attempt(1, outcome)).label;
            assert!(LABELS.contains(&label.as_str()), "{label}");
        }
    }

    #[test]
    fn a_stronger_phrase_wins_even_inside_or_after_a_weaker_one() {
        // "interested" lies inside "not interested"; "remove me" comes last.
        let disposition = classify(&answered_saying(
            "Sounds good but I am not interested, please remove me",
        ));
        assert_eq!(disposition.label, "do_not_call");
        let disposition = classify(&answered_saying("No, I'm NOT INTERESTED."));
        assert_eq!(disposition.label, "not_interested");
    }

    #[test]
    fn an_empty_phrase_list_never_matches() {
        let rules = Rules::configure(&Config::from_pairs(&[
            ("do_not_call_phrases", " | "),
            ("interested_phrases", "tell me more"),
        ]))
        .expect("valid");
        let disposition = rules
            .classify(&classify_input(answered_saying(
                "Stop calling. Tell me more.",
            )))
            .unwrap();
        assert_eq!(disposition.label, "interested");
    }

    #[test]
    fn sentiment_words_count_in_any_case_and_script() {
        assert_eq!(sentiment("GREAT, great. Great!"), Some(1.0));
        assert_eq!(sentiment("good NOT"), Some(0.0));
        // The Kelvin sign lowercases to an ASCII "k", so this is "thanks";
        // a fullwidth "Ｎo" lowercases to "ｎo", which is not "no".
        assert_eq!(sentiment("THAN\u{212A}S"), Some(1.0));
        assert_eq!(sentiment("Ｎo"), None);
        assert_eq!(sentiment(""), None);
    }

    #[test]
    fn custom_phrases_replace_the_defaults() {
        let rules = Rules::configure(&Config::from_pairs(&[(
            "interested_phrases",
            "¡me interesa!",
        )]))
        .expect("valid");
        let disposition = rules
            .classify(&classify_input(answered_saying("Sí, ¡me interesa!")))
            .unwrap();
        assert_eq!(disposition.label, "interested");
    }
}
