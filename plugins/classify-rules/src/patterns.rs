//! The patterns of the transcript automaton and how they compile: the
//! phrase lists, the sentiment words, and one Aho-Corasick DFA over the
//! bytes of the lowercased transcript that finds them all.
//!
//! Shared by the build script, which compiles the default phrases ahead of
//! time into static tables, and the crate, which compiles configured
//! phrases at `configure`: one construction for both.

/// Transcript phrase lists, strongest intent first: the first list with a
/// match decides the label. (config key, label, default phrases.)
pub const PHRASE_KEYS: [(&str, &str, &str); 5] = [
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

/// Words that count towards a positive sentiment, lowercase ASCII.
pub const POSITIVE_WORDS: [&str; 10] = [
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
/// Words that count towards a negative sentiment, lowercase ASCII.
pub const NEGATIVE_WORDS: [&str; 10] = [
    "no", "not", "stop", "angry", "annoying", "bad", "never", "hate", "remove", "wrong",
];

/// The most transitions (states times byte classes) an automaton may have:
/// 2 MiB of table. Configured phrases past it are refused rather than left
/// to take that memory and time in every instance.
pub const MAX_TRANSITIONS: usize = 1 << 19;

/// What a match of one pattern of the automaton means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// A phrase of list `list` of [`PHRASE_KEYS`]; lower is stronger.
    Phrase { list: usize },
    /// A positive word `chars` chars long; it counts only as a whole word.
    Positive { chars: usize },
    /// A negative word `chars` chars long; it counts only as a whole word.
    Negative { chars: usize },
}

/// The phrases of each list of [`PHRASE_KEYS`], in order: the configured
/// value of its key (`configured(key)`) or else its default, split on `|`,
/// trimmed and lowercased, without empty phrases.
pub fn phrase_lists<'a>(configured: impl Fn(&str) -> Option<&'a str>) -> Vec<Vec<String>> {
    PHRASE_KEYS
        .iter()
        .map(|(key, _, default)| {
            configured(key)
                .unwrap_or(default)
                .split('|')
                .map(|phrase| phrase.trim().to_lowercase())
                .filter(|phrase| !phrase.is_empty())
                .collect()
        })
        .collect()
}

/// Every pattern of the automaton for `lists`, lowercased, with its
/// meaning: each list's phrases, strongest list first, then the positive
/// and the negative words.
pub fn patterns(lists: &[Vec<String>]) -> impl Iterator<Item = (&str, Meaning)> + Clone {
    let phrases = lists.iter().enumerate().flat_map(|(list, phrases)| {
        phrases
            .iter()
            .map(move |phrase| (phrase.as_str(), Meaning::Phrase { list }))
    });
    let positive = POSITIVE_WORDS.iter().map(|word| {
        let chars = word.chars().count();
        (*word, Meaning::Positive { chars })
    });
    let negative = NEGATIVE_WORDS.iter().map(|word| {
        let chars = word.chars().count();
        (*word, Meaning::Negative { chars })
    });
    phrases.chain(positive).chain(negative)
}

/// Whether a lowercased phrase may or may not be in a text with a `Σ`
/// depending on the letters around it: `str::to_lowercase` turns `Σ` into
/// `ς` at the end of a word and into `σ` elsewhere.
pub fn reads_final_sigma(phrase: &str) -> bool {
    phrase.contains(['σ', 'ς'])
}

/// The tables of an automaton, owned or static; see [`Automaton`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutomatonTables<'a> {
    /// The class of every byte. Class 0 is every byte of no pattern; an
    /// ASCII capital has the class of its lowercase, so ASCII text needs no
    /// lowercasing.
    pub classes: &'a [u8; 256],
    /// How many classes there are: the width of a state's row.
    pub stride: usize,
    /// Row by row, the next state of each state on each class. States are
    /// numbered by the offset of their row (premultiplied by `stride`),
    /// the start state first, at 0.
    pub transitions: &'a [u32],
    /// Every state whose row is at or past this one ends a pattern.
    pub first_match_state: u32,
    /// For the n-th matching state, its meanings are `meanings[starts[n]
    /// .. starts[n + 1]]`.
    pub meaning_starts: &'a [u32],
    /// The meanings of every pattern ending at each matching state,
    /// including the patterns that are suffixes of longer ones.
    pub meanings: &'a [Meaning],
    /// Whether every pattern is ASCII, so that a char is only worth
    /// lowercasing if its lowercase has an ASCII char.
    pub ascii_only: bool,
    /// The length of the longest pattern, in bytes.
    pub longest_pattern: usize,
}

/// An Aho-Corasick DFA over the bytes of lowercased text: fed the UTF-8 of
/// a text's lowercase byte by byte, it is in a matching state right after
/// the last byte of each occurrence of each pattern, every occurrence of
/// every pattern, overlapping or not.
///
/// Its fields are those of [`AutomatonTables`], which [`Automaton::tables`]
/// lends.
#[derive(Debug)]
pub struct Automaton {
    classes: [u8; 256],
    stride: usize,
    transitions: Vec<u32>,
    first_match_state: u32,
    meaning_starts: Vec<u32>,
    meanings: Vec<Meaning>,
    longest_pattern: usize,
}

/// Patterns whose automaton would have more than [`MAX_TRANSITIONS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyTransitions;

/// No state yet, while the trie is built.
const NO_STATE: u32 = u32::MAX;

impl Automaton {
    /// Compile `patterns`: lowercased, non-empty (an empty one is skipped).
    pub fn build<'p>(
        patterns: impl Iterator<Item = (&'p str, Meaning)> + Clone,
    ) -> Result<Self, TooManyTransitions> {
        let classes = byte_classes(patterns.clone().map(|(pattern, _)| pattern));
        let stride = usize::from(*classes.iter().max().unwrap_or(&0)) + 1;

        // The trie, in rows of `stride`; missing children are NO_STATE.
        let mut transitions = vec![NO_STATE; stride];
        let mut meanings: Vec<Vec<Meaning>> = vec![Vec::new()];
        let mut longest_pattern = 0;
        for (pattern, meaning) in patterns {
            if pattern.is_empty() {
                continue;
            }
            longest_pattern = longest_pattern.max(pattern.len());
            let mut state = 0;
            for byte in pattern.bytes() {
                let cell = state * stride + usize::from(classes[usize::from(byte)]);
                if transitions[cell] == NO_STATE {
                    if transitions.len() + stride > MAX_TRANSITIONS {
                        return Err(TooManyTransitions);
                    }
                    transitions[cell] = (transitions.len() / stride) as u32;
                    transitions.resize(transitions.len() + stride, NO_STATE);
                    meanings.push(Vec::new());
                }
                state = transitions[cell] as usize;
            }
            meanings[state].push(meaning);
        }

        // Breadth first, each state's missing transitions become those of
        // its longest proper suffix that is a trie state (its failure
        // state), and it takes on that suffix's meanings.
        let states = meanings.len();
        let mut failure = vec![0usize; states];
        let mut queue = std::collections::VecDeque::new();
        for cell in transitions.iter_mut().take(stride) {
            if *cell == NO_STATE {
                *cell = 0;
            } else {
                queue.push_back(*cell as usize);
            }
        }
        while let Some(state) = queue.pop_front() {
            let inherited = meanings[failure[state]].clone();
            meanings[state].extend(inherited);
            for class in 0..stride {
                let cell = state * stride + class;
                let on_failure = transitions[failure[state] * stride + class];
                if transitions[cell] == NO_STATE {
                    transitions[cell] = on_failure;
                } else {
                    failure[transitions[cell] as usize] = on_failure as usize;
                    queue.push_back(transitions[cell] as usize);
                }
            }
        }

        // Renumber: the matching states last, so one comparison per byte
        // tells a match; rows premultiplied, so a step is one addition.
        let mut order: Vec<usize> = (0..states).filter(|&s| meanings[s].is_empty()).collect();
        let first_match = order.len();
        order.extend((0..states).filter(|&s| !meanings[s].is_empty()));
        let mut row_of = vec![0u32; states];
        for (new, &old) in order.iter().enumerate() {
            row_of[old] = (new * stride) as u32;
        }
        let mut renumbered = Vec::with_capacity(transitions.len());
        let mut meaning_starts = vec![0u32];
        let mut flat_meanings = Vec::new();
        for (new, &old) in order.iter().enumerate() {
            let row = &transitions[old * stride..(old + 1) * stride];
            renumbered.extend(row.iter().map(|&next| row_of[next as usize]));
            if new >= first_match {
                flat_meanings.extend_from_slice(&meanings[old]);
                meaning_starts.push(flat_meanings.len() as u32);
            }
        }
        Ok(Automaton {
            classes,
            stride,
            transitions: renumbered,
            first_match_state: (first_match * stride) as u32,
            meaning_starts,
            meanings: flat_meanings,
            longest_pattern,
        })
    }

    /// The automaton's tables, as the scan reads them.
    pub fn tables(&self) -> AutomatonTables<'_> {
        AutomatonTables {
            classes: &self.classes,
            stride: self.stride,
            transitions: &self.transitions,
            first_match_state: self.first_match_state,
            meaning_starts: &self.meaning_starts,
            meanings: &self.meanings,
            ascii_only: self.classes[0x80..].iter().all(|&class| class == 0),
            longest_pattern: self.longest_pattern,
        }
    }
}

/// A class for each byte found in `patterns` (lowercased), in byte order
/// from 1; 0 for the others. ASCII capitals share their lowercase's class:
/// lowercased patterns have none of their own.
fn byte_classes<'p>(patterns: impl Iterator<Item = &'p str>) -> [u8; 256] {
    let mut used = [false; 256];
    for pattern in patterns {
        for byte in pattern.bytes() {
            used[usize::from(byte)] = true;
        }
    }
    let mut classes = [0u8; 256];
    let mut next = 0u8;
    for byte in 0..=255u8 {
        if used[usize::from(byte)] {
            // No overflow: lowercased UTF-8 has no ASCII capitals, nor
            // bytes 0xC0, 0xC1 or 0xF5 to 0xFF.
            next += 1;
            classes[usize::from(byte)] = next;
        }
    }
    for capital in b'A'..=b'Z' {
        classes[usize::from(capital)] = classes[usize::from(capital.to_ascii_lowercase())];
    }
    classes
}
