// Labels ended calls with rules on the SIP code, talk time, answering
// machine detection and transcript phrases, and scores them: the rules of
// the Rust plugins/classify-rules, in JavaScript.

import { DAY_MS, SECOND_MS, classifier, disposition } from "outdial-plugin-sdk";

/** Every label this classifier may return. */
export const LABELS = [
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

/**
 * Transcript phrase lists, strongest intent first: the first list with a
 * phrase found anywhere in the transcript decides the label, so "stop
 * calling" wins over "interested" wherever each appears.
 */
const PHRASE_LISTS = [
  ["do_not_call_phrases", "do_not_call", "stop calling|do not call|don't call|remove me|take me off"],
  ["wrong_number_phrases", "wrong_number", "wrong number|no one by that name|doesn't live here"],
  ["callback_phrases", "callback_requested", "call me back|call back later|call me later|not a good time|busy right now"],
  ["not_interested_phrases", "not_interested", "not interested|no thanks|no thank you"],
  ["interested_phrases", "interested", "interested|sign me up|sounds good|tell me more|yes please"],
];

const POSITIVE_WORDS = ["great", "good", "thanks", "thank", "love", "happy", "yes", "sure", "perfect", "interested"];
const NEGATIVE_WORDS = ["no", "not", "stop", "angry", "annoying", "bad", "never", "hate", "remove", "wrong"];

const SCORES = { interested: 0.9, callback_requested: 0.6, human_answered: 0.5, not_interested: 0.2 };

const keys = {
  callback_delay: "When a callback is requested, call back after this long. Default: 1d.",
  voicemail_is_terminal: "Whether reaching voicemail ends the contact. Default: false.",
  short_call: "A human answer shorter than this with no intent found counts as not interested. Default: 5s.",
};
for (const [key, label, phrases] of PHRASE_LISTS) {
  keys[key] = `Transcript phrases, separated by |, that mean ${label}. Default: "${phrases}".`;
}

export default classifier({
  name: "classify-js",
  version: "0.2.0",
  labels: LABELS,
  keys,

  configure(config) {
    return {
      // One list of lowercased phrases per entry of PHRASE_LISTS, strongest
      // first; blanks dropped, so a list left blank never matches.
      phraseLists: PHRASE_LISTS.map(([key, label, phrases]) => ({
        label,
        phrases: config
          .string(key, phrases)
          .split("|")
          .map((phrase) => phrase.trim().toLowerCase())
          .filter((phrase) => phrase.length > 0),
      })),
      callbackDelayMs: config.durationMs("callback_delay", DAY_MS),
      voicemailIsTerminal: config.boolean("voicemail_is_terminal", false),
      shortCallMs: Math.max(config.durationMs("short_call", 5 * SECOND_MS), 0),
    };
  },

  classify(contact, attempt, previous, rules) {
    // Lowercased once for both the phrases and the sentiment words.
    const transcript = attempt.transcript === null ? null : attempt.transcript.toLowerCase();
    const result = labelOf(attempt, transcript, rules);
    if (transcript !== null) {
      result.sentiment = sentimentOfLowercase(transcript);
    }
    result.score = SCORES[result.label] ?? 0;
    return result;
  },
});

function labelOf(attempt, transcript, rules) {
  switch (attempt.outcome) {
    case "busy":
      return disposition("busy", false);
    case "no-answer":
      return disposition("no_answer", false);
    case "answered":
      if (attempt.machineDetection === "machine" || attempt.machineDetection === "fax") {
        return disposition("voicemail", rules.voicemailIsTerminal);
      }
      if (attempt.machineDetection === "call-screening") {
        return disposition("call_screening", false);
      }
      return labelConversation(attempt, transcript ?? "", rules);
    default:
      // Failed, canceled or unknown: the SIP code says more.
      switch (attempt.sipCode) {
        case 404: // not found
        case 484: // address incomplete
        case 604: // does not exist anywhere
          return disposition("wrong_number", true);
        case 486:
        case 600:
          return disposition("busy", false);
        case 408:
        case 480:
          return disposition("no_answer", false);
        default:
          return disposition("failed", false);
      }
  }
}

function labelConversation(attempt, transcript, rules) {
  // `includes` per phrase, not a regular expression: QuickJS scans a string
  // about twenty times faster with it.
  const intent = rules.phraseLists.find(({ phrases }) => phrases.some((phrase) => transcript.includes(phrase)));
  if (intent?.label === "callback_requested") {
    return disposition("callback_requested", false, { followUpAt: attempt.endedAt + rules.callbackDelayMs });
  }
  if (intent) {
    return disposition(intent.label, true);
  }
  return attempt.talkMs < rules.shortCallMs ? disposition("not_interested", true) : disposition("human_answered", true);
}

/** +1 for a positive word, -1 for a negative one. */
const WORD_SENTIMENT = new Map([
  ...POSITIVE_WORDS.map((word) => [word, 1]),
  ...NEGATIVE_WORDS.map((word) => [word, -1]),
]);

/** Share of positive minus negative words, in [-1, 1]; null without any. */
export function sentiment(transcript) {
  return sentimentOfLowercase(transcript.toLowerCase());
}

// Words are what lies between spaces or line breaks, without the
// punctuation at their ends ("great," is "great"), letters, digits and
// apostrophes being word characters as for Rust's `char::is_alphanumeric`.
// Unlike the Rust plugin, punctuation inside a word does not split it
// ("no-good" is one word): splitting at spaces is one native call, while
// QuickJS spends about half a microsecond on each character a loop looks at,
// too much for a 64 KB transcript within the 50 ms a call may use.
function sentimentOfLowercase(text) {
  let positive = 0;
  let negative = 0;
  for (const token of text.replaceAll("\n", " ").split(" ")) {
    let value = WORD_SENTIMENT.get(token);
    if (value === undefined && token.length > 1) {
      value = WORD_SENTIMENT.get(trimPunctuation(token));
    }
    if (value === 1) positive += 1;
    else if (value === -1) negative += 1;
  }
  const total = positive + negative;
  return total > 0 ? (positive - negative) / total : null;
}

// Punctuation looked at on each end of a token, in UTF-16 units: enough for
// `"(yes)",` or an emoji, while a 64 KB token of emoji costs no more.
const MAX_END_PUNCTUATION = 8;

/** `token` without the characters at its ends that are not word characters. */
function trimPunctuation(token) {
  let start = 0;
  let end = token.length;
  const startLimit = Math.min(end, MAX_END_PUNCTUATION);
  while (start < startLimit && !isWordCode(token.charCodeAt(start), token, start)) start += 1;
  const endLimit = Math.max(start, token.length - MAX_END_PUNCTUATION);
  while (end > endLimit && !isWordCode(token.charCodeAt(end - 1), token, end - 1)) end -= 1;
  return start === 0 && end === token.length ? token : token.slice(start, end);
}

const NON_ASCII_WORD_CHARACTER = /^[\p{Alphabetic}\p{N}]$/u;
const nonAsciiVerdicts = new Map();

function isWordCode(code, text, index) {
  if (code < 128) {
    return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 39 || (code >= 65 && code <= 90);
  }
  // A surrogate pair is one character; its low half continues the high one.
  if (code >= 0xdc00 && code <= 0xdfff && index > 0) {
    const high = text.charCodeAt(index - 1);
    if (high >= 0xd800 && high <= 0xdbff) return isWordCode(high, text, index - 1);
  }
  const point = text.codePointAt(index);
  let verdict = nonAsciiVerdicts.get(point);
  if (verdict === undefined) {
    verdict = NON_ASCII_WORD_CHARACTER.test(String.fromCodePoint(point));
    nonAsciiVerdicts.set(point, verdict);
  }
  return verdict;
}
