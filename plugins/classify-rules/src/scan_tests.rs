//! The one-pass scan against the algorithm it replaced, kept here as the
//! reference: phrases found in a lowercased copy of the transcript, words
//! compared one by one.

use std::sync::LazyLock;
use std::time::Instant;

use outdial_sdk::prelude::*;
use proptest::prelude::*;

use crate::Rules;
use crate::patterns::{self, Automaton, Meaning, PHRASE_KEYS};
use crate::scan::{self, NON_ASCII_LOWERCASING_TO_ASCII, Scan, TranscriptScanner};

/// The classifier as it was before the one-pass scan.
mod reference {
    use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

    use crate::patterns::{NEGATIVE_WORDS, POSITIVE_WORDS};
    use crate::scan::Scan;

    pub struct Reference {
        phrases: AhoCorasick,
        list_of_phrase: Vec<usize>,
    }

    impl Reference {
        /// `lists` as `patterns::phrase_lists` reads them.
        pub fn new(lists: &[Vec<String>]) -> Self {
            let mut patterns = Vec::new();
            let mut list_of_phrase = Vec::new();
            for (list, phrases) in lists.iter().enumerate() {
                for phrase in phrases {
                    patterns.push(phrase.clone());
                    list_of_phrase.push(list);
                }
            }
            let phrases = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(&patterns)
                .expect("phrases build");
            Reference {
                phrases,
                list_of_phrase,
            }
        }

        pub fn scan(&self, transcript: &str) -> Scan {
            let (positive, negative) = sentiment_counts(transcript);
            Scan {
                strongest_list: self.strongest_list(transcript),
                positive,
                negative,
            }
        }

        fn strongest_list(&self, transcript: &str) -> Option<usize> {
            let transcript = transcript.to_lowercase();
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
            strongest
        }
    }

    fn sentiment_counts(transcript: &str) -> (u32, u32) {
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
        (positive, negative)
    }

    fn is_one_of(word: &str, words: &[&str]) -> bool {
        if word.is_ascii() {
            words.iter().any(|known| known.eq_ignore_ascii_case(word))
        } else {
            let word = word.to_lowercase();
            words.contains(&word.as_str())
        }
    }
}

use reference::Reference;

fn default_lists() -> Vec<Vec<String>> {
    patterns::phrase_lists(|_| None)
}

static DEFAULT_REFERENCE: LazyLock<Reference> = LazyLock::new(|| Reference::new(&default_lists()));

/// Every phrase key set to its default value: phrases compiled at
/// `configure`, not the built-in tables.
fn defaults_given_as_configuration() -> Config {
    let pairs: Vec<(&str, &str)> = PHRASE_KEYS
        .iter()
        .map(|(key, _, default)| (*key, *default))
        .collect();
    Config::from_pairs(&pairs)
}

static DEFAULTS_COMPILED_AT_CONFIGURE: LazyLock<Rules> = LazyLock::new(|| {
    Rules::configure(&defaults_given_as_configuration()).expect("the defaults compile")
});

fn scan_with_defaults(transcript: &str) -> Scan {
    Rules::configure(&Config::default())
        .expect("defaults are valid")
        .scan(transcript)
}

fn configured_scan(pairs: &[(&str, &str)], transcript: &str) -> Scan {
    Rules::configure(&Config::from_pairs(pairs))
        .expect("valid")
        .scan(transcript)
}

fn reference_scan(pairs: &[(&str, &str)], transcript: &str) -> Scan {
    let config = Config::from_pairs(pairs);
    Reference::new(&patterns::phrase_lists(|key| config.get(key))).scan(transcript)
}

#[test]
fn the_default_tables_are_what_configure_would_compile() {
    let compiled = Automaton::build(patterns::patterns(&default_lists())).expect("compiles");
    assert_eq!(compiled.tables(), scan::DEFAULT_TABLES);
}

#[test]
fn only_the_kelvin_sign_and_the_dotted_capital_i_lowercase_to_something_ascii() {
    let to_ascii: Vec<char> = ('\u{80}'..=char::MAX)
        .filter(|c| c.to_lowercase().any(|lower| lower.is_ascii()))
        .collect();
    assert_eq!(to_ascii, NON_ASCII_LOWERCASING_TO_ASCII);
}

#[test]
fn only_the_dotted_capital_i_lowercases_to_more_than_one_char() {
    // Its lowercase, "i" and a combining dot, can end no ASCII word: a
    // sentiment word's match spans as many chars of the text as it has.
    let longer: Vec<(char, String)> = ('\0'..=char::MAX)
        .map(|c| (c, c.to_lowercase().collect::<String>()))
        .filter(|(_, lower)| lower.chars().count() > 1)
        .collect();
    assert_eq!(longer, [('\u{130}', "i\u{307}".to_string())]);
}

#[test]
fn every_lowercase_char_lowercases_to_itself() {
    // So feeding the lowercase of a lowercased copy feeds the copy.
    for c in ('\0'..=char::MAX).flat_map(char::to_lowercase) {
        assert!(c.to_lowercase().eq([c]), "{c:?}");
    }
}

#[test]
fn an_automaton_reports_every_pattern_ending_at_each_byte() {
    let patterns = [("he", 0), ("she", 1), ("his", 2), ("hers", 3)];
    let automaton = Automaton::build(
        patterns
            .iter()
            .map(|&(pattern, list)| (pattern, Meaning::Phrase { list })),
    )
    .expect("compiles");
    let tables = automaton.tables();
    let mut state = 0u32;
    let mut found = Vec::new();
    for (at, byte) in "ushers".bytes().enumerate() {
        let class = usize::from(tables.classes[usize::from(byte)]);
        state = tables.transitions[state as usize + class];
        if state >= tables.first_match_state {
            let nth = (state - tables.first_match_state) as usize / tables.stride;
            let meanings = &tables.meanings
                [tables.meaning_starts[nth] as usize..tables.meaning_starts[nth + 1] as usize];
            for meaning in meanings {
                found.push((at + 1, *meaning));
            }
        }
    }
    let mut found_lists: Vec<(usize, usize)> = found
        .iter()
        .map(|(end, meaning)| match meaning {
            Meaning::Phrase { list } => (*end, *list),
            other => panic!("{other:?}"),
        })
        .collect();
    found_lists.sort_unstable();
    assert_eq!(found_lists, [(4, 0), (4, 1), (6, 3)], "she, he, hers");
}

#[test]
fn a_kelvin_sign_counts_as_k_in_thanks_and_in_a_phrase() {
    let scan = scan_with_defaults("THAN\u{212A}S, ta\u{212A}e me off");
    assert_eq!(scan.positive, 1);
    assert_eq!(scan.strongest_list, Some(0), "take me off");
}

#[test]
fn a_word_inside_a_longer_word_or_joined_by_an_apostrophe_does_not_count() {
    let scan = scan_with_defaults("I know nothing, nonstop; no's 'no' GOODS thankss");
    assert_eq!((scan.positive, scan.negative), (0, 0));
    let scan = scan_with_defaults("no. Not! NO-good ... good…never");
    assert_eq!((scan.positive, scan.negative), (2, 4));
}

#[test]
fn letters_around_a_word_from_any_script_join_it() {
    // "é" and "Ｎ" are alphanumeric; "’" (a typographic apostrophe) and
    // "—" are not, and so separate words.
    let scan = scan_with_defaults("éno Ｎno noＮ no’s no—great");
    assert_eq!((scan.positive, scan.negative), (1, 2));
    assert_eq!(scan, DEFAULT_REFERENCE.scan("éno Ｎno noＮ no’s no—great"));
}

#[test]
fn a_stronger_phrase_found_first_still_leaves_every_word_counted() {
    let scan = scan_with_defaults("stop calling me, great, great, no");
    assert_eq!(scan.strongest_list, Some(0));
    assert_eq!((scan.positive, scan.negative), (2, 2), "stop, no");
}

#[test]
fn a_dotted_capital_i_ends_a_phrase_in_i_as_lowercasing_would() {
    // "HİX" lowercases to "hi", a combining dot, "x": it holds "hi".
    let pairs = [("interested_phrases", "hi")];
    for transcript in ["HİX", "hi", "HI", "h", "Hİ"] {
        assert_eq!(
            configured_scan(&pairs, transcript),
            reference_scan(&pairs, transcript),
            "{transcript}"
        );
    }
    assert_eq!(configured_scan(&pairs, "HİX").strongest_list, Some(4));
}

#[test]
fn a_dotted_capital_i_stands_for_an_i_with_a_combining_dot() {
    // "İstanbul" lowercases to "i", a combining dot, "stanbul".
    let pairs = [("interested_phrases", "İstanbul|\u{307}stan")];
    for transcript in [
        "İSTANBUL",
        "istanbul",
        "I\u{307}stanbul",
        "Istanbul",
        "xİstan",
    ] {
        assert_eq!(
            configured_scan(&pairs, transcript),
            reference_scan(&pairs, transcript),
            "{transcript}"
        );
    }
    assert_eq!(configured_scan(&pairs, "İSTANBUL").strongest_list, Some(4));
    assert_eq!(configured_scan(&pairs, "istanbul").strongest_list, None);
}

#[test]
fn a_capital_sigma_matches_the_sigma_its_place_in_a_word_gives_it() {
    // "Σ" lowercases to "ς" at the end of a word and to "σ" elsewhere.
    let pairs = [("interested_phrases", "ΟΔΟΣ"), ("callback_phrases", "σα")];
    for transcript in ["ΟΔΟΣ", "ΟΔΟΣΑ", "οδος", "ΟΔΟσ", "ΣΑ", "ΑΣ Α", "ok ΟΔΟΣ."]
    {
        assert_eq!(
            configured_scan(&pairs, transcript),
            reference_scan(&pairs, transcript),
            "{transcript}"
        );
    }
    assert_eq!(configured_scan(&pairs, "ok ΟΔΟΣ.").strongest_list, Some(4));
    assert_eq!(configured_scan(&pairs, "ΟΔΟΣΑ").strongest_list, Some(2));
}

#[test]
fn phrases_too_many_to_compile_are_refused_naming_their_key() {
    // Thousands of unrelated phrases: the automaton outgrows its limit.
    let mut seed = 0x2545_f491_u32;
    let phrases: Vec<String> = (0..3000)
        .map(|_| {
            (0..24)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    char::from(b'a' + (seed % 26) as u8)
                })
                .collect()
        })
        .collect();
    let result = Rules::configure(&Config::from_pairs(&[(
        "callback_phrases",
        &phrases.join("|"),
    )]));
    match result {
        Err(PluginError::InvalidConfig(message)) => {
            assert!(message.contains("key \"callback_phrases\""), "{message}");
        }
        Err(other) => panic!("another error: {other:?}"),
        Ok(_) => panic!("3000 phrases compiled"),
    }
}

#[test]
fn words_and_phrases_across_the_middle_of_a_long_transcript_count_once() {
    // Long enough to be scanned as two halves, with the words moved across
    // where the halves meet, one byte at a time.
    for shift in 0..120 {
        let transcript = format!(
            "{} no thanks, THAN\u{212A}S great. Remove me {}",
            "ab ".repeat(180 + shift / 3) + &"c".repeat(shift % 3),
            "well ".repeat(120)
        );
        let scan = scan_with_defaults(&transcript);
        assert_eq!(
            scan,
            DEFAULT_REFERENCE.scan(&transcript),
            "shifted by {shift}"
        );
        assert_eq!((scan.positive, scan.negative), (3, 2), "shifted by {shift}");
        assert_eq!(scan.strongest_list, Some(0));
    }
}

#[test]
fn phrases_given_in_configuration_replace_the_defaults_list_by_list() {
    let pairs = [("do_not_call_phrases", "leave me alone")];
    let scan = configured_scan(&pairs, "Please leave me ALONE, stop calling");
    assert_eq!(scan.strongest_list, Some(0));
    let scan = configured_scan(&pairs, "stop calling, tell me more");
    assert_eq!(
        scan.strongest_list,
        Some(4),
        "the default interested phrases stay"
    );
}

/// Default phrases and sentiment words, and near misses, to splice into
/// transcripts.
const SPLICED: &[&str] = &[
    "stop calling",
    "do not call",
    "don't call",
    "remove me",
    "take me off",
    "wrong number",
    "no one by that name",
    "doesn't live here",
    "call me back",
    "call back later",
    "call me later",
    "not a good time",
    "busy right now",
    "not interested",
    "no thanks",
    "no thank you",
    "interested",
    "sign me up",
    "sounds good",
    "tell me more",
    "yes please",
    "great",
    "good",
    "thanks",
    "thank",
    "love",
    "happy",
    "yes",
    "sure",
    "perfect",
    "no",
    "not",
    "stop",
    "angry",
    "annoying",
    "bad",
    "never",
    "hate",
    "remove",
    "wrong",
    "know",
    "nothing",
    "nonstop",
    "thanksgiving",
    "no's",
    "goodbye",
    "call",
    "me",
];

/// Single chars of the transcripts, besides ASCII letters and digits.
const ODD_CHARS: &[char] = &[
    ' ', ' ', ' ', '.', ',', '!', '?', '-', ':', '\'', '\'', '\n',
    '\u{212A}', // Kelvin sign, lowercases to "k"
    'é', 'É', 'Ｎ', // fullwidth, lowercases to "ｎ"
    '’', '—', '…', '«', '»', 'ſ', // long s, lowercases to itself
    'İ', '\u{307}',
];

/// `text` with each char upper- or lowercase as `case_bits` says, and
/// some replaced by a char lowercasing to the same (or, for `i`, to
/// something else) as `odd_bits` says.
fn with_random_case(text: &str, case_bits: u64, odd_bits: u64) -> String {
    text.chars()
        .enumerate()
        .flat_map(|(at, c)| {
            let upper = (case_bits >> (at % 64)) & 1 == 1;
            let odd = (odd_bits >> (at % 64)) & 1 == 1;
            let c = match (c, odd) {
                ('k', true) => '\u{212A}',
                ('i', true) => 'İ',
                ('s', true) => 'ſ',
                ('ω', true) => '\u{2126}', // Ohm sign, lowercases to "ω"
                ('å', true) => '\u{212B}', // Angstrom sign, lowercases to "å"
                (c, _) => c,
            };
            let chars: Vec<char> = if upper {
                c.to_uppercase().collect()
            } else {
                vec![c]
            };
            chars
        })
        .collect()
}

fn fragment(spliced: &'static [&'static str], odd_chars: &'static [char]) -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::char::range('a', 'z').prop_map(String::from),
        2 => proptest::char::range('A', 'Z').prop_map(String::from),
        1 => proptest::char::range('0', '9').prop_map(String::from),
        4 => proptest::sample::select(odd_chars).prop_map(String::from),
        4 => (proptest::sample::select(spliced), any::<u64>(), any::<u64>())
            .prop_map(|(text, case_bits, odd_bits)| {
                // Mostly plain case changes; now and then an odd char.
                with_random_case(text, case_bits, odd_bits & (odd_bits >> 7) & (odd_bits >> 19))
            }),
    ]
    .boxed()
}

/// Transcripts from empty to a few KB: past `scan::SPLIT_FROM_BYTES`,
/// scanned as two halves side by side.
fn transcript() -> impl Strategy<Value = String> {
    proptest::collection::vec(fragment(SPLICED, ODD_CHARS), 0..400)
        .prop_map(|fragments| fragments.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_built_in_tables_scan_as_the_reference_does(transcript in transcript()) {
        prop_assert_eq!(
            TranscriptScanner::Default.scan(&transcript),
            DEFAULT_REFERENCE.scan(&transcript)
        );
    }

    #[test]
    fn default_phrases_compiled_at_configure_scan_as_the_reference_does(
        transcript in transcript()
    ) {
        prop_assert_eq!(
            DEFAULTS_COMPILED_AT_CONFIGURE.scan(&transcript),
            DEFAULT_REFERENCE.scan(&transcript)
        );
    }
}

/// Configured phrases beyond ASCII: chars with several uppercase forms
/// (`ω`, `å`, `ǆ`), lowercasings by context (`σ`, `ς`) or into two chars
/// (`i` and a combining dot), and chars that lowercase to themselves only.
const CONFIGURED_PHRASES: &[&str] = &[
    "¡me interesa!",
    "straße",
    "οδος",
    "σας",
    "ωμέγα",
    "åsa",
    "ǆem",
    "hi",
    "i\u{307}stanbul",
    "\u{307}x",
    "ſo",
    "no",
    "call",
    "ok",
];

const CONFIGURED_ODD_CHARS: &[char] = &[
    ' ', ' ', '.', '\'', 'Σ', 'σ', 'ς', 'İ', '\u{307}', 'Ǆ', 'ǅ', 'ǆ', '\u{2126}', '\u{212B}', 'ẞ',
    'ß', 'ſ', 'é', 'Ｎ',
];

fn configured_phrase_lists() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    proptest::collection::vec(
        (
            proptest::sample::select(&PHRASE_KEYS[..]),
            proptest::collection::vec(
                (proptest::sample::select(CONFIGURED_PHRASES), any::<u64>())
                    .prop_map(|(phrase, case_bits)| with_random_case(phrase, case_bits, 0)),
                0..4,
            ),
        )
            .prop_map(|((key, _, _), phrases)| (key, phrases.join("|"))),
        1..4,
    )
}

fn transcript_in_any_script() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            3 => fragment(CONFIGURED_PHRASES, CONFIGURED_ODD_CHARS),
            1 => fragment(SPLICED, ODD_CHARS),
        ],
        0..300,
    )
    .prop_map(|fragments| fragments.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn configured_phrases_in_any_script_scan_as_the_reference_does(
        configured in configured_phrase_lists(),
        transcript in transcript_in_any_script(),
    ) {
        let pairs: Vec<(&str, &str)> = configured
            .iter()
            .map(|(key, phrases)| (*key, phrases.as_str()))
            .collect();
        prop_assert_eq!(
            configured_scan(&pairs, &transcript),
            reference_scan(&pairs, &transcript)
        );
    }
}

/// A conversation of about 2 KB with an intent near its end, as the
/// plugin-call benchmark classifies.
fn transcript_2kb() -> String {
    let sentence = "Agent: Hi, this is Sam calling about your energy plan. Customer: Oh right, \
                    I was wondering about that, what does it cost? ";
    let mut text = String::new();
    while text.len() < 2048 {
        text.push_str(sentence);
    }
    text.push_str("Customer: Sounds good, tell me more.");
    text
}

/// Nanoseconds per call of `call`: the best of 5 rounds of `calls / 5`
/// calls, as other work on the machine only ever slows a round down.
fn nanos_per_call(calls: u32, mut call: impl FnMut()) -> f64 {
    let round = (calls / 5).max(1);
    for _ in 0..round / 10 {
        call();
    }
    (0..5)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..round {
                call();
            }
            started.elapsed().as_nanos() as f64 / f64::from(round)
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture in release"]
fn timing_of_a_2kb_transcript_old_and_new() {
    use std::hint::black_box;

    let transcript = transcript_2kb();
    let bytes = transcript.len() as f64;
    let rules = Rules::configure(&Config::default()).expect("defaults are valid");
    assert_eq!(rules.scan(&transcript), DEFAULT_REFERENCE.scan(&transcript));

    let old = nanos_per_call(100_000, || {
        black_box(DEFAULT_REFERENCE.scan(black_box(&transcript)));
    });
    let new = nanos_per_call(100_000, || {
        black_box(rules.scan(black_box(&transcript)));
    });
    let configured = nanos_per_call(100_000, || {
        black_box(DEFAULTS_COMPILED_AT_CONFIGURE.scan(black_box(&transcript)));
    });
    let mut attempt = outdial_sdk::testing::plain_attempt(1, CallOutcome::Answered);
    attempt.transcript = Some(transcript.clone());
    let input = outdial_sdk::testing::classify_input(attempt);
    let classify = nanos_per_call(100_000, || {
        black_box(rules.classify(black_box(&input)).expect("classifies"));
    });
    let old_configure = nanos_per_call(10_000, || {
        black_box(Reference::new(&default_lists()));
    });
    let configure_default = nanos_per_call(100_000, || {
        black_box(Rules::configure(&Config::default()).expect("valid"));
    });
    let configure_compiling = nanos_per_call(10_000, || {
        black_box(Rules::configure(&defaults_given_as_configuration()).expect("valid"));
    });

    let tables = scan::DEFAULT_TABLES;
    eprintln!(
        "transcript: {bytes} bytes\n\
         old scan (lowercased copy, aho-corasick, word split): {old:.0} ns ({:.2} ns/byte)\n\
         new scan, default tables: {new:.0} ns ({:.2} ns/byte)\n\
         new scan, automaton compiled at configure: {configured:.0} ns ({:.2} ns/byte)\n\
         new classify (trait call, transcript already read): {classify:.0} ns\n\
         old configure's automaton (lowercase phrases, aho-corasick NFA): {old_configure:.0} ns\n\
         new configure with the default tables: {configure_default:.0} ns\n\
         new configure compiling the default phrases: {configure_compiling:.0} ns\n\
         default tables: {} states ({} matching), {} classes, {} transitions ({} bytes), \
         {} meanings",
        old / bytes,
        new / bytes,
        configured / bytes,
        tables.transitions.len() / tables.stride,
        (tables.transitions.len() - tables.first_match_state as usize) / tables.stride,
        tables.stride,
        tables.transitions.len(),
        tables.transitions.len() * 4,
        tables.meanings.len(),
    );
}
