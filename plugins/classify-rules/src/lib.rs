//! Labels ended calls with rules on the SIP code, talk time, answering
//! machine detection and transcript keywords, and scores them.
//!
//! The transcript is read once, by one automaton that holds every phrase
//! of every list and every sentiment word, fed the transcript's lowercase
//! as it goes. The default phrases' automaton is compiled by the build
//! script into static tables; configured phrases compile at `configure`.

mod patterns;
mod scan;

use outdial_sdk::prelude::*;

use patterns::{MAX_TRANSITIONS, PHRASE_KEYS};
use scan::{Scan, TranscriptScanner};

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

pub struct Rules {
    /// Every phrase of every list and every sentiment word in one
    /// automaton, so the transcript is scanned once however many phrases
    /// there are.
    scanner: TranscriptScanner,
    callback_delay_ms: i64,
    voicemail_is_terminal: bool,
    short_call_ms: u64,
}

/// The scanner for the phrases of `config`: the default one unless a
/// `*_phrases` key is set.
fn phrases_scanner(config: &Config) -> Result<TranscriptScanner, PluginError> {
    let configured_keys: Vec<&str> = PHRASE_KEYS
        .iter()
        .map(|(key, _, _)| *key)
        .filter(|key| config.get(key).is_some())
        .collect();
    if configured_keys.is_empty() {
        return Ok(TranscriptScanner::Default);
    }
    TranscriptScanner::compile(&patterns::phrase_lists(|key| config.get(key))).map_err(|_| {
        let keys: Vec<String> = configured_keys
            .iter()
            .map(|key| format!("key \"{key}\""))
            .collect();
        PluginError::InvalidConfig(format!(
            "{}: too many or too long transcript phrases: their automaton would have more \
             than {MAX_TRANSITIONS} transitions",
            keys.join(", ")
        ))
    })
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
        let scanner = phrases_scanner(config)?;
        let short_call_ms = config.duration_ms_or("short_call", 5 * SECOND_MS)?;
        Ok(Rules {
            scanner,
            callback_delay_ms: config.duration_ms_or("callback_delay", DAY_MS)?,
            voicemail_is_terminal: config.parse_or("voicemail_is_terminal", false)?,
            short_call_ms: short_call_ms.max(0) as u64,
        })
    }
}

impl Classifier for Rules {
    fn classify(&self, input: &ClassifyInput) -> Result<Disposition, PluginError> {
        let ended = &input.ended;
        Ok(self.disposition(
            ended.outcome,
            ended.sip_code,
            ended.machine_detection,
            ended.talk_ms,
            ended.ended_at,
            input.transcript(),
        ))
    }
}

impl Rules {
    /// The disposition of a call that ended with `outcome` after `talk_ms`
    /// of talk, at `ended_at`, saying `transcript` when it was transcribed.
    fn disposition(
        &self,
        outcome: CallOutcome,
        sip_code: Option<u16>,
        machine_detection: MachineDetection,
        talk_ms: u64,
        ended_at: i64,
        transcript: Option<&str>,
    ) -> Disposition {
        let scan = transcript.map(|transcript| self.scan(transcript));
        let mut disposition = match outcome {
            CallOutcome::Busy => Disposition::new("busy", false),
            CallOutcome::NoAnswer => Disposition::new("no_answer", false),
            CallOutcome::Failed | CallOutcome::Canceled | CallOutcome::Unknown => match sip_code {
                // Not found, address incomplete, does not exist anywhere.
                Some(404 | 484 | 604) => Disposition::new("wrong_number", true),
                Some(486 | 600) => Disposition::new("busy", false),
                Some(408 | 480) => Disposition::new("no_answer", false),
                _ => Disposition::new("failed", false),
            },
            CallOutcome::Answered => match machine_detection {
                MachineDetection::Machine | MachineDetection::Fax => {
                    Disposition::new("voicemail", self.voicemail_is_terminal)
                }
                MachineDetection::CallScreening => Disposition::new("call_screening", false),
                _ => self.conversation_disposition(
                    scan.and_then(|scan| scan.strongest_list),
                    talk_ms,
                    ended_at,
                ),
            },
        };
        disposition.sentiment = scan.and_then(|scan| scan.sentiment());
        disposition.score = Some(score(&disposition.label));
        disposition
    }

    /// Which phrase lists `transcript` says and how many positive and
    /// negative words it has, in one pass.
    fn scan(&self, transcript: &str) -> Scan {
        self.scanner.scan(transcript)
    }

    /// The disposition of a conversation with a person, whose strongest
    /// phrase list found is `strongest_list`, of `talk_ms` of talk, that
    /// ended at `ended_at`.
    fn conversation_disposition(
        &self,
        strongest_list: Option<usize>,
        talk_ms: u64,
        ended_at: i64,
    ) -> Disposition {
        match strongest_list.map(|list| PHRASE_KEYS[list].1) {
            Some("callback_requested") => {
                let mut disposition = Disposition::new("callback_requested", false);
                disposition.follow_up_at = Some(ended_at + self.callback_delay_ms);
                disposition
            }
            Some(label) => Disposition::new(label, true),
            None if talk_ms < self.short_call_ms => Disposition::new("not_interested", true),
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

/// The sentiment of `transcript` as `classify` gives it: the share of
/// positive minus negative words, in [-1, 1]; none without any. The words
/// are the same whatever phrases are configured.
pub fn sentiment(transcript: &str) -> Option<f32> {
    TranscriptScanner::Default.scan(transcript).sentiment()
}

outdial_sdk::export_classifier!(Rules);

#[cfg(test)]
mod scan_tests;

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
