//! One pass over a transcript finds both the phrase lists it says and its
//! positive and negative words: one automaton holds every phrase and every
//! sentiment word, and is fed the transcript's lowercase as it goes, with
//! no lowercased copy.

use crate::patterns::{self, Automaton, AutomatonTables, Meaning, TooManyTransitions};

include!(concat!(env!("OUT_DIR"), "/default_tables.rs"));

/// The chars outside ASCII whose lowercase has an ASCII char: the Kelvin
/// sign lowercases to `k`, and `İ` to `i` and a combining dot above. A
/// test checks there are no others.
pub const NON_ASCII_LOWERCASING_TO_ASCII: [char; 2] = ['\u{130}', '\u{212A}'];

/// What one pass over a transcript found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// The strongest phrase list (lowest index) with a phrase in the
    /// lowercased text.
    pub strongest_list: Option<usize>,
    /// How many words of the text are positive words, in any case.
    pub positive: u32,
    /// How many words of the text are negative words, in any case.
    pub negative: u32,
}

impl Scan {
    /// Share of positive minus negative words, in [-1, 1]; none without
    /// any.
    pub fn sentiment(&self) -> Option<f32> {
        let total = self.positive + self.negative;
        (total > 0).then(|| (self.positive as f32 - self.negative as f32) / total as f32)
    }
}

/// The automaton transcripts are scanned with.
#[derive(Debug)]
pub enum TranscriptScanner {
    /// The default phrases, compiled by the build script.
    Default,
    /// Configured phrases, compiled at `configure`.
    Configured {
        automaton: Box<Automaton>,
        /// Whether a phrase has a `σ` or `ς`, which a `Σ` may or may not
        /// lowercase to depending on the letters around it.
        phrases_read_final_sigma: bool,
    },
}

impl TranscriptScanner {
    /// Compile `lists` (lowercased phrases, strongest list first) and the
    /// sentiment words.
    pub fn compile(lists: &[Vec<String>]) -> Result<Self, TooManyTransitions> {
        Ok(TranscriptScanner::Configured {
            automaton: Box::new(Automaton::build(patterns::patterns(lists))?),
            phrases_read_final_sigma: lists
                .iter()
                .flatten()
                .any(|phrase| patterns::reads_final_sigma(phrase)),
        })
    }

    /// Which phrase lists `transcript` says, lowercased, and how many of
    /// its words are positive or negative words, case-insensitively.
    pub fn scan(&self, transcript: &str) -> Scan {
        match self {
            TranscriptScanner::Default => scan_lowercase(&DEFAULT_TABLES, transcript),
            TranscriptScanner::Configured {
                automaton,
                phrases_read_final_sigma,
            } => {
                let tables = automaton.tables();
                let mut scan = scan_lowercase(&tables, transcript);
                if *phrases_read_final_sigma && transcript.contains('Σ') {
                    // Lowercasing `Σ` depends on its neighbours: find the
                    // phrases in the lowercase `str::to_lowercase` gives.
                    scan.strongest_list =
                        scan_lowercase(&tables, &transcript.to_lowercase()).strongest_list;
                }
                scan
            }
        }
    }
}

/// From this many bytes on, a text is scanned as two halves side by side.
pub const SPLIT_FROM_BYTES: usize = 512;

/// Feed `text`'s lowercase to the automaton of `tables`, char by char as
/// `char::to_lowercase` gives it, and gather what its matches mean.
fn scan_lowercase(tables: &AutomatonTables<'_>, text: &str) -> Scan {
    let mut scan = Scan::default();
    // The most bytes of text a match may span: each byte of a pattern
    // comes from a char of at most 4 bytes.
    let match_span = 4 * tables.longest_pattern + 4;
    if text.len() < SPLIT_FROM_BYTES.max(4 * match_span) {
        let mut whole = Cursor::new(0, text.len(), 0);
        while whole.at < whole.end {
            whole.step(tables, text, &mut scan);
        }
        return scan;
    }
    // Each step waits for the table load of the one before: two
    // independent chains of steps, one per half, keep the processor busy
    // while it waits. The second half starts a match span early, so it
    // sees whole every match that ends in it, and keeps only those.
    let middle = floor_char_boundary(text, text.len() / 2);
    let mut first = Cursor::new(0, middle, 0);
    let second_start = floor_char_boundary(text, middle - match_span);
    let mut second = Cursor::new(second_start, text.len(), middle);
    while first.at < first.end && second.at < second.end {
        first.step(tables, text, &mut scan);
        second.step(tables, text, &mut scan);
    }
    for cursor in [&mut first, &mut second] {
        while cursor.at < cursor.end {
            cursor.step(tables, text, &mut scan);
        }
    }
    scan
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Where one chain of steps is in the text and in the automaton.
struct Cursor {
    state: u32,
    at: usize,
    end: usize,
    /// Matches ending at or before this byte are another cursor's.
    reports_after: usize,
}

impl Cursor {
    fn new(at: usize, end: usize, reports_after: usize) -> Self {
        Cursor {
            state: 0,
            at,
            end,
            reports_after,
        }
    }

    /// Feed the lowercase of the char at `at`.
    #[inline(always)]
    fn step(&mut self, tables: &AutomatonTables<'_>, text: &str, scan: &mut Scan) {
        let byte = text.as_bytes()[self.at];
        if !byte.is_ascii() {
            return self.step_non_ascii(tables, text, scan);
        }
        // The classes lowercase ASCII letters.
        self.at += 1;
        self.state = next_state(tables, self.state, byte);
        if self.state >= tables.first_match_state && self.at > self.reports_after {
            record(tables, self.state, text, Some(self.at), scan);
        }
    }

    #[inline(never)]
    fn step_non_ascii(&mut self, tables: &AutomatonTables<'_>, text: &str, scan: &mut Scan) {
        let c = text[self.at..]
            .chars()
            .next()
            .expect("a cursor stops at char boundaries");
        let end = self.at + c.len_utf8();
        self.at = end;
        if tables.ascii_only && !NON_ASCII_LOWERCASING_TO_ASCII.contains(&c) {
            // Its lowercase is of bytes of no pattern, which lead every
            // state back to the start.
            self.state = 0;
            return;
        }
        let mut lowercase = c.to_lowercase().peekable();
        while let Some(lower) = lowercase.next() {
            let mut utf8 = [0; 4];
            let lower_bytes = lower.encode_utf8(&mut utf8).as_bytes();
            for (index, &lower_byte) in lower_bytes.iter().enumerate() {
                self.state = next_state(tables, self.state, lower_byte);
                if self.state >= tables.first_match_state && end > self.reports_after {
                    // A match ending inside the lowercase of `c` ends at
                    // no char boundary of the text.
                    let ends_with_c = index + 1 == lower_bytes.len() && lowercase.peek().is_none();
                    record(tables, self.state, text, ends_with_c.then_some(end), scan);
                }
            }
        }
    }
}

fn next_state(tables: &AutomatonTables<'_>, state: u32, byte: u8) -> u32 {
    tables.transitions[state as usize + usize::from(tables.classes[usize::from(byte)])]
}

/// Gather the meanings of matching state `state`, reached at byte `end` of
/// `text` (none if inside a char's lowercase).
fn record(
    tables: &AutomatonTables<'_>,
    state: u32,
    text: &str,
    end: Option<usize>,
    scan: &mut Scan,
) {
    let nth = (state - tables.first_match_state) as usize / tables.stride;
    let meanings = &tables.meanings
        [tables.meaning_starts[nth] as usize..tables.meaning_starts[nth + 1] as usize];
    for meaning in meanings {
        match *meaning {
            Meaning::Phrase { list } => {
                if scan.strongest_list.is_none_or(|strongest| list < strongest) {
                    scan.strongest_list = Some(list);
                }
            }
            Meaning::Positive { chars } => {
                if end.is_some_and(|end| is_whole_word(text, end, chars)) {
                    scan.positive += 1;
                }
            }
            Meaning::Negative { chars } => {
                if end.is_some_and(|end| is_whole_word(text, end, chars)) {
                    scan.negative += 1;
                }
            }
        }
    }
}

/// Whether the `chars` chars that end at byte `end` of `text` are a whole
/// word, as splitting the text on chars that are neither alphanumeric nor
/// an apostrophe finds words. Checked here, on the few candidate matches,
/// rather than by the automaton, which would need the large classes of
/// alphanumeric chars.
///
/// A sentiment word is ASCII, so each of its chars comes from one char of
/// the text that lowercases to it alone: its match spans `chars` chars.
fn is_whole_word(text: &str, end: usize, chars: usize) -> bool {
    if text[end..].chars().next().is_some_and(is_word_char) {
        return false;
    }
    match text[..end].char_indices().rev().nth(chars - 1) {
        Some((start, _)) => !text[..start].chars().next_back().is_some_and(is_word_char),
        None => false,
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '\''
}
