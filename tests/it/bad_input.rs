//! Bad input, generated: the CSV importer, the config parser and webhook
//! parsing through both provider adapters are fed arbitrary and
//! near-valid inputs. None may panic or trap; every refusal names its
//! place; nothing unsigned or tampered gets through.
//!
//! Case counts are small so CI stays fast; `PROPTEST_CASES=20000` (or any
//! count) runs every property longer.

use std::sync::OnceLock;

use outdial::config::{Config, ConfigError, Diagnostic, StaticCatalog};
use outdial::import::{ImportError, ImportMode, ImportOptions, ImportReport, import_csv};
use outdial::plugin_host::{AdapterPlugin, PluginHost, PluginLimits, PluginSource, wit};
use outdial_tests::provider_sim::{twilio_signature, voiceai_signature};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        // Shrinking a webhook through a Wasm call is slow; a few hundred
        // steps find the small case.
        max_shrink_iters: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------- CSV --

fn us_options(mode: ImportMode) -> ImportOptions {
    ImportOptions::new(mode)
        .with_default_country("US")
        .expect("US is a country")
}

/// Every refusal of a whole file or a row names where it is.
fn assert_refusal_is_placed(result: &Result<ImportReport, ImportError>, records: usize) {
    match result {
        Ok(report) => {
            for skipped in &report.skipped {
                assert!(
                    (2..=records + 1).contains(&skipped.row),
                    "skipped row {} is not a row of the file: {skipped}",
                    skipped.row
                );
                assert!(
                    skipped
                        .to_string()
                        .starts_with(&format!("row {}", skipped.row))
                );
            }
            for contact in &report.contacts {
                assert!(contact.phone.starts_with('+'), "{contact:?}");
            }
        }
        Err(ImportError::Rejected(errors)) => {
            assert!(!errors.is_empty(), "a rejection lists its rows");
            for error in errors {
                assert!(error.row >= 2, "{error}");
                let text = error.to_string();
                assert!(text.starts_with(&format!("row {}", error.row)), "{text}");
            }
        }
        Err(ImportError::Malformed { row, message }) => {
            assert!(*row >= 1, "malformed at row {row}: {message}");
        }
        Err(ImportError::UnnamedColumn { index }) => assert!(*index >= 1),
        Err(
            ImportError::NoPhoneColumn { .. }
            | ImportError::AmbiguousColumns { .. }
            | ImportError::DuplicateColumn(_)
            | ImportError::TooManyColumns { .. }
            | ImportError::Empty,
        ) => {
            // About the header row: named by what is wrong with it.
        }
        Err(other) => panic!("an in-memory CSV import failed unexpectedly: {other}"),
    }
}

/// What a generated CSV row is, so the expected outcome is known.
#[derive(Debug, Clone)]
enum RowKind {
    /// A distinct valid number in one of several spellings, a name, maybe a zone.
    Valid {
        format: u8,
        name: String,
        zone: Option<&'static str>,
    },
    BadPhone(&'static str),
    MissingPhone,
    BadZone(&'static str),
    /// The number of an earlier valid row, spelled differently.
    Duplicate(usize),
    TooManyFields,
    Blank,
}

fn row_kind() -> impl Strategy<Value = RowKind> {
    prop_oneof![
        4 => (0u8..4, "\\PC{0,12}", prop::option::of(prop::sample::select(vec![
            "America/New_York", "Europe/Paris", "Asia/Kolkata", " UTC "
        ])))
            .prop_map(|(format, name, zone)| RowKind::Valid { format, name, zone }),
        1 => prop::sample::select(vec!["not a number", "555", "+", "++1415", "phone"]).prop_map(RowKind::BadPhone),
        1 => Just(RowKind::MissingPhone),
        1 => prop::sample::select(vec!["Mars/Base", "EST5", "America/Nowhere", "+01:00"]).prop_map(RowKind::BadZone),
        1 => any::<prop::sample::Index>().prop_map(|index| RowKind::Duplicate(index.index(1 << 16))),
        1 => Just(RowKind::TooManyFields),
        1 => Just(RowKind::Blank),
    ]
}

/// A CSV field, quoted so commas, quotes and newlines survive.
fn quote(field: &str) -> String {
    format!("\"{}\"", field.replace('"', "\"\""))
}

/// 415-555-01NN spelled four ways: the importer must see them as one number.
fn spell(number: usize, format: u8) -> String {
    let last = 100 + number;
    match format {
        0 => format!("+1415555{last:04}"),
        1 => format!("(415) 555-{last:04}"),
        2 => format!("415.555.{last:04}"),
        _ => format!("+1 415 555 {last:04}"),
    }
}

struct Expected {
    csv: String,
    /// Row numbers (header = 1) of rows that must be accepted.
    valid: Vec<usize>,
    /// Row numbers that must be refused, with the column the refusal names
    /// (None: the whole row).
    invalid: Vec<(usize, Option<&'static str>)>,
}

fn build_csv(kinds: &[RowKind]) -> Expected {
    let mut csv = String::from("phone,name,tz\n");
    let mut valid = Vec::new();
    let mut invalid = Vec::new();
    // Distinct number per valid row, remembered to make duplicates.
    let mut valid_numbers: Vec<(usize, usize)> = Vec::new();
    for (index, kind) in kinds.iter().enumerate() {
        let row = index + 2;
        let line = match kind {
            RowKind::Valid { format, name, zone } => {
                let number = index;
                valid.push(row);
                valid_numbers.push((row, number));
                format!(
                    "{},{},{}",
                    spell(number, *format),
                    quote(name),
                    zone.unwrap_or("")
                )
            }
            RowKind::BadPhone(phone) => {
                invalid.push((row, Some("phone")));
                format!("{phone},Ada,")
            }
            RowKind::MissingPhone => {
                invalid.push((row, Some("phone")));
                ",Ada,Europe/Paris".to_string()
            }
            RowKind::BadZone(zone) => {
                invalid.push((row, Some("tz")));
                format!("{},Ada,{zone}", spell(index, 0))
            }
            RowKind::Duplicate(pick) if !valid_numbers.is_empty() => {
                let (_, number) = valid_numbers[pick % valid_numbers.len()];
                invalid.push((row, Some("phone")));
                format!("{},Twin,", spell(number, 3))
            }
            RowKind::Duplicate(_) => {
                invalid.push((row, Some("phone")));
                "555,Nobody,".to_string()
            }
            RowKind::TooManyFields => {
                invalid.push((row, None));
                format!("{},Ada,UTC,extra", spell(index, 0))
            }
            RowKind::Blank => {
                invalid.push((row, None));
                " , ,\t".to_string()
            }
        };
        csv.push_str(&line);
        csv.push('\n');
    }
    Expected {
        csv,
        valid,
        invalid,
    }
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_the_csv_importer_and_every_refusal_names_its_row(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let records = bytes.iter().filter(|byte| **byte == b'\n' || **byte == b'\r').count() + 1;
        for mode in [ImportMode::Strict, ImportMode::SkipInvalid] {
            let result = import_csv(bytes.as_slice(), &us_options(mode));
            assert_refusal_is_placed(&result, records);
        }
    }

    #[test]
    fn csv_shaped_noise_with_a_phone_header_never_panics_and_names_every_row(
        body in "(\\+?[0-9 ()\\-.]{0,16}|\"[^\"]{0,8}\"|[a-z/_]{0,12}|,|\r?\n|\"){0,60}",
    ) {
        let csv = format!("phone,name,tz\n{body}");
        // The CSV reader ends a record at "\n", "\r\n" or a lone "\r":
        // counting both characters bounds the number of records.
        let records = csv.matches(['\n', '\r']).count() + 1;
        for mode in [ImportMode::Strict, ImportMode::SkipInvalid] {
            assert_refusal_is_placed(&import_csv(csv.as_bytes(), &us_options(mode)), records);
        }
    }

    #[test]
    fn a_near_valid_csv_keeps_exactly_its_valid_rows_and_names_every_other(
        kinds in prop::collection::vec(row_kind(), 1..60),
    ) {
        let expected = build_csv(&kinds);

        let report = import_csv(expected.csv.as_bytes(), &us_options(ImportMode::SkipInvalid))
            .unwrap_or_else(|err| panic!("skip-invalid refused the file: {err}\n{}", expected.csv));
        let kept: Vec<usize> = report.contacts.iter().map(|contact| contact.row).collect();
        prop_assert_eq!(&kept, &expected.valid, "accepted rows of\n{}", expected.csv);
        let skipped: Vec<(usize, Option<String>)> = report
            .skipped
            .iter()
            .map(|error| (error.row, error.field.clone()))
            .collect();
        let wanted: Vec<(usize, Option<String>)> = expected
            .invalid
            .iter()
            .map(|(row, field)| (*row, field.map(str::to_string)))
            .collect();
        prop_assert_eq!(skipped, wanted, "refused rows of\n{}", expected.csv);
        for contact in &report.contacts {
            prop_assert!(contact.phone.starts_with("+1415555"), "{:?}", contact);
        }

        match import_csv(expected.csv.as_bytes(), &us_options(ImportMode::Strict)) {
            Ok(report) => {
                prop_assert!(expected.invalid.is_empty(), "strict accepted bad rows");
                prop_assert_eq!(report.contacts.len(), expected.valid.len());
            }
            Err(ImportError::Rejected(errors)) => {
                let rows: Vec<usize> = errors.iter().map(|error| error.row).collect();
                let wanted: Vec<usize> = expected.invalid.iter().map(|(row, _)| *row).collect();
                prop_assert_eq!(rows, wanted);
            }
            Err(other) => panic!("strict refused the file whole: {other}"),
        }
    }
}

// ------------------------------------------------------------- config --

const VALID_CONFIG: &str = r#"[[workspaces]]
id = "acme"

[[campaigns]]
id = "renewals"
workspace = "acme"
concurrency = 20
calls_per_second = 2.5
max_attempts = 3

[campaigns.provider]
plugin = "simulated"

[campaigns.retry]
plugin = "retry-backoff"
config = { base_delay = "1m", jitter = 0 }

[campaigns.window]
default_time_zone = "America/New_York"
hours = [{ days = "mon-fri", start = "09:00", end = "20:00" }]
"#;

/// Every diagnostic points inside `text`: a real line, a column on it (one
/// past the end at most, where a value is missing).
fn assert_placed_in(text: &str, diagnostics: impl IntoIterator<Item = Diagnostic>) {
    let lines: Vec<&str> = text.split('\n').collect();
    for diagnostic in diagnostics {
        assert!(
            diagnostic.line >= 1 && diagnostic.line <= lines.len(),
            "diagnostic outside the text ({} lines): {diagnostic}\n--- text ---\n{text}",
            lines.len()
        );
        let width = lines[diagnostic.line - 1].chars().count();
        assert!(
            diagnostic.column >= 1 && diagnostic.column <= width + 1,
            "column past the end of line {} ({width} chars): {diagnostic}\n--- text ---\n{text}",
            diagnostic.line
        );
        assert!(
            diagnostic.to_string().starts_with(&format!(
                "bad.toml:{}:{}: ",
                diagnostic.line, diagnostic.column
            )),
            "{diagnostic}"
        );
        assert!(!diagnostic.message.trim().is_empty(), "{diagnostic}");
    }
}

/// Parse, then check meaning and resolve when parsing succeeded: no step
/// may panic, and every problem is placed in the text.
fn check_config(text: &str) {
    match Config::parse_str("bad.toml", text) {
        Ok(config) => {
            let catalog = StaticCatalog::new();
            if let Err(found) = config.validate(&catalog) {
                assert_placed_in(text, found.iter().cloned());
            }
            if let Err(found) = config.campaign_specs() {
                assert_placed_in(text, found.iter().cloned());
            }
        }
        Err(ConfigError::Invalid(found)) => {
            assert!(!found.is_empty(), "a refusal lists its problems");
            assert_placed_in(text, found.iter().cloned());
        }
        Err(other) => panic!("parsing text failed outside the text: {other}"),
    }
}

/// Pieces of TOML, right and wrong, that the parser must take apart.
fn toml_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "[[campaigns]]\n",
            "[[workspaces]]\n",
            "[server]\n",
            "[campaigns.provider]\n",
            "[campaigns.window]\n",
            "[campaigns.retry]\n",
            "[[plugins]]\n",
            "[nope]\n",
            "id = \"c1\"\n",
            "workspace = \"acme\"\n",
            "concurrency = ",
            "calls_per_second = ",
            "max_attempts = ",
            "plugin = \"simulated\"\n",
            "call_timeout = \"",
            "hours = [",
            "{ days = \"mon-fri\", start = \"09:00\", end = \"20:00\" }",
            "]\n",
            "config = {",
            "}\n",
            "= ",
            "\"",
            "'",
            "\"\"\"",
            "#",
            "\n",
            " ",
            ",",
            ".",
            "[",
            "]",
            "{",
            "}",
            "default_time_zone = \"Mars/Base\"\n",
            "1e999",
            "-0",
            "0x1F",
            "inf",
            "nan",
            "9223372036854775808",
            "true",
            "1979-05-27T07:32:00Z",
            "\t",
            "\r\n",
            "é",
            "𝄞",
        ])
        .prop_map(str::to_string),
        "\\PC{0,6}",
        any::<i64>().prop_map(|n| n.to_string()),
    ]
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn arbitrary_text_never_panics_the_config_parser_and_every_error_is_placed(
        text in "\\PC{0,400}",
    ) {
        check_config(&text);
    }

    #[test]
    fn toml_shaped_text_never_panics_the_config_parser_and_every_error_is_placed(
        fragments in prop::collection::vec(toml_fragment(), 0..80),
    ) {
        check_config(&fragments.concat());
    }

    #[test]
    fn a_mutated_valid_config_never_panics_and_every_error_is_placed(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, "\\PC{0,4}"), 1..6),
    ) {
        let mut text = VALID_CONFIG.to_string();
        for (at, edit, insert) in edits {
            let boundaries: Vec<usize> = text
                .char_indices()
                .map(|(offset, _)| offset)
                .chain(std::iter::once(text.len()))
                .collect();
            let offset = boundaries[at.index(boundaries.len())];
            match edit {
                0 => text.insert_str(offset, &insert),
                1 => {
                    let end = boundaries
                        .iter()
                        .copied()
                        .find(|boundary| *boundary > offset)
                        .unwrap_or(offset);
                    text.replace_range(offset..end, "");
                }
                _ => text.insert(offset, '\n'),
            }
        }
        check_config(&text);
    }
}

#[test]
fn the_unmutated_config_of_the_mutation_property_is_valid() {
    // The mutations start from a valid config, or they test nothing.
    let config = Config::parse_str("bad.toml", VALID_CONFIG).expect("parses");
    let specs = config.campaign_specs().expect("resolves");
    assert_eq!(specs[0].id, "renewals");
}

// ----------------------------------------------------------- webhooks --

/// When the generated webhooks arrive: 2026-03-02 15:00 UTC.
const RECEIVED_AT: i64 = 1_772_463_600_000;
const TWILIO_TOKEN: &str = "twilio-auth-token-0123456789";
const VOICEAI_SECRET: &str = "voiceai-webhook-secret-0123456789";
const WEBHOOK_URL: &str =
    "https://dialer.example.com/v1/webhooks/providers/renewals?attempt_id=b1-0-1";

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

fn twilio() -> &'static AdapterPlugin {
    static PLUGIN: OnceLock<AdapterPlugin> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        PluginHost::new()
            .expect("plugin host")
            .load_adapter(
                &PluginSource::Builtin("provider-twilio".to_string()),
                &pairs(&[
                    ("account_sid", "AC0123"),
                    ("auth_token", TWILIO_TOKEN),
                    ("api_base", "https://api.twilio.example"),
                    ("twiml_url", "https://app.example.com/voice"),
                ]),
                PluginLimits::default(),
            )
            .expect("the Twilio adapter loads")
    })
}

fn voiceai() -> &'static AdapterPlugin {
    static PLUGIN: OnceLock<AdapterPlugin> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        PluginHost::new()
            .expect("plugin host")
            .load_adapter(
                &PluginSource::Builtin("provider-voiceai".to_string()),
                &pairs(&[
                    ("api_base", "https://api.voiceai.example"),
                    ("api_key", "voiceai-api-key"),
                    ("assistant_id", "asst-renewals"),
                    ("webhook_secret", VOICEAI_SECRET),
                ]),
                PluginLimits::default(),
            )
            .expect("the voice-AI adapter loads")
    })
}

fn webhook(url: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> wit::InboundWebhook {
    wit::InboundWebhook {
        method: "POST".to_string(),
        url: url.to_string(),
        headers,
        body,
        received_at: RECEIVED_AT,
    }
}

/// The adapter's answer; a trap or deadline fails the test.
fn parse(
    plugin: &AdapterPlugin,
    webhook: &wit::InboundWebhook,
) -> Result<Vec<wit::CallEvent>, wit::WebhookError> {
    plugin
        .parse_webhook(webhook)
        .unwrap_or_else(|fault| panic!("the adapter faulted on {webhook:?}: {fault}"))
}

fn twilio_params() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        prop::sample::select(vec![
            "queued",
            "ringing",
            "in-progress",
            "completed",
            "busy",
            "no-answer",
            "failed",
            "canceled",
        ]),
        "CA[0-9a-f]{8}",
        prop::option::of("[0-9]{1,4}"),
        prop::option::of(prop::sample::select(vec![
            "human",
            "machine_start",
            "fax",
            "unknown",
        ])),
        prop::collection::vec(("[A-Za-z]{1,10}", "\\PC{0,12}"), 0..4),
    )
        .prop_map(|(status, sid, duration, answered_by, extra)| {
            let mut params = pairs(&[
                ("CallSid", &sid),
                ("CallStatus", status),
                ("AccountSid", "AC0123"),
            ]);
            if let Some(duration) = duration {
                params.push(("CallDuration".to_string(), duration));
            }
            if let Some(answered_by) = answered_by {
                params.push(("AnsweredBy".to_string(), answered_by.to_string()));
            }
            params.extend(extra);
            params
        })
}

fn form_body(params: &[(String, String)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
        .into_bytes()
}

fn signed_twilio(params: &[(String, String)]) -> wit::InboundWebhook {
    webhook(
        WEBHOOK_URL,
        pairs(&[
            ("content-type", "application/x-www-form-urlencoded"),
            (
                "x-twilio-signature",
                &twilio_signature(TWILIO_TOKEN, WEBHOOK_URL, params),
            ),
        ]),
        form_body(params),
    )
}

fn voiceai_body() -> impl Strategy<Value = Vec<u8>> {
    (
        "call-[0-9a-f]{6}",
        prop::sample::select(vec![
            "customer-ended-call",
            "assistant-ended-call",
            "voicemail",
            "customer-did-not-answer",
            "customer-busy",
            "silence-timed-out",
        ]),
        "\\PC{0,40}",
        0u32..100_000,
    )
        .prop_map(|(id, ended, transcript, cost)| {
            serde_json::json!({
                "message": {
                    "type": "end-of-call-report",
                    "call": { "id": id, "metadata": { "attempt_id": "b1-0-1" } },
                    "endedReason": ended,
                    "transcript": transcript,
                    "cost": f64::from(cost) / 1000.0,
                }
            })
            .to_string()
            .into_bytes()
        })
}

fn signed_voiceai(body: Vec<u8>, signed_at_s: i64) -> wit::InboundWebhook {
    let timestamp = signed_at_s.to_string();
    webhook(
        WEBHOOK_URL,
        pairs(&[
            ("content-type", "application/json"),
            (
                "x-signature",
                &voiceai_signature(VOICEAI_SECRET, &timestamp, &body),
            ),
            ("x-signature-timestamp", &timestamp),
        ]),
        body,
    )
}

/// Arbitrary headers, sometimes with the signature header names present
/// but holding garbage.
fn noise_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop_oneof![
                prop::sample::select(vec![
                    "X-Twilio-Signature",
                    "x-signature",
                    "X-Signature-Timestamp",
                    "content-type",
                ])
                .prop_map(str::to_string),
                "[A-Za-z-]{1,16}",
            ],
            prop_oneof![
                "\\PC{0,64}",
                any::<i64>().prop_map(|n| n.to_string()),
                "v1=[0-9a-f]{64}",
                "[A-Za-z0-9+/]{27}=",
            ],
        ),
        0..6,
    )
}

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn arbitrary_webhooks_never_trap_either_adapter_and_are_never_accepted(
        url in prop_oneof![Just(WEBHOOK_URL.to_string()), "\\PC{0,80}"],
        headers in noise_headers(),
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..1024),
            "\\PC{0,200}".prop_map(String::into_bytes),
        ],
    ) {
        let arriving = webhook(&url, headers, body);
        // Nobody without the secrets can sign: whatever arrives unsigned
        // by them is refused, not read.
        prop_assert!(parse(twilio(), &arriving).is_err(), "Twilio accepted {:?}", arriving);
        prop_assert!(parse(voiceai(), &arriving).is_err(), "voice-AI accepted {:?}", arriving);
    }

    #[test]
    fn a_signed_twilio_callback_is_read_and_any_change_to_it_is_refused(
        params in twilio_params(),
        victim in any::<prop::sample::Index>(),
        replacement in "\\PC{1,8}",
        change in 0u8..4,
    ) {
        let genuine = signed_twilio(&params);
        prop_assert!(parse(twilio(), &genuine).is_ok(), "a genuine callback was refused: {:?}", genuine);

        let mut tampered = genuine.clone();
        match change {
            // A parameter's value altered after signing.
            0 => {
                let mut changed = params.clone();
                let at = victim.index(changed.len());
                changed[at].1.push_str(&replacement);
                tampered.body = form_body(&changed);
            }
            // A parameter added after signing.
            1 => {
                let mut changed = params.clone();
                changed.push(("Injected".to_string(), replacement.clone()));
                tampered.body = form_body(&changed);
            }
            // The callback replayed against another attempt.
            2 => tampered.url = WEBHOOK_URL.replace("b1-0-1", "b1-0-2"),
            // The signature itself altered.
            _ => {
                let signature = &mut tampered.headers[1].1;
                let at = victim.index(signature.len());
                let flipped = if signature.as_bytes()[at] == b'A' { "B" } else { "A" };
                signature.replace_range(at..=at, flipped);
            }
        }
        prop_assert!(
            matches!(parse(twilio(), &tampered), Err(wit::WebhookError::BadSignature(_))),
            "a tampered callback was not refused as badly signed: {:?}", tampered
        );
    }

    #[test]
    fn a_signed_voiceai_report_is_read_and_any_change_or_replay_is_refused(
        body in voiceai_body(),
        victim in any::<prop::sample::Index>(),
        bit in 0u8..8,
        change in 0u8..4,
        skew_s in 301i64..10_000_000,
    ) {
        let now_s = RECEIVED_AT / 1000;
        let genuine = signed_voiceai(body.clone(), now_s);
        prop_assert!(parse(voiceai(), &genuine).is_ok(), "a genuine report was refused: {:?}", genuine);

        let tampered = match change {
            // One bit of the body flipped after signing.
            0 => {
                let mut tampered = genuine.clone();
                let at = victim.index(tampered.body.len());
                tampered.body[at] ^= 1 << bit;
                tampered
            }
            // The timestamp moved to dodge the tolerance, the signature kept.
            1 => {
                let mut tampered = genuine.clone();
                tampered.headers[2].1 = (now_s - 1).to_string();
                tampered
            }
            // Correctly signed, but long ago or far ahead: a replay.
            2 => signed_voiceai(body, if victim.index(2) == 0 { now_s - skew_s } else { now_s + skew_s }),
            // Signed with another secret.
            _ => {
                let mut tampered = genuine.clone();
                tampered.headers[1].1 =
                    voiceai_signature("guessed-secret", &now_s.to_string(), &tampered.body);
                tampered
            }
        };
        prop_assert!(
            matches!(parse(voiceai(), &tampered), Err(wit::WebhookError::BadSignature(_))),
            "a tampered report was not refused as badly signed: {:?}", tampered
        );
    }
}
