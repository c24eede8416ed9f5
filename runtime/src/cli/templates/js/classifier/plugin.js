// {{name}}: a disposition classifier that labels an ended call by how the
// network ended it and who answered.

import { classifier, disposition } from "outdial-plugin-sdk";

/** Every label this classifier may return; the host refuses any other. */
export const LABELS = ["human_answered", "voicemail", "busy", "no_answer", "failed"];

export default classifier({
  name: "{{name}}",
  version: "0.1.0",
  labels: LABELS,
  keys: {
    voicemail_is_terminal: "Whether reaching voicemail ends the contact. Default: false.",
    human_answered_is_terminal: "Whether reaching a person ends the contact. Default: true.",
  },

  configure(config) {
    return {
      voicemailIsTerminal: config.boolean("voicemail_is_terminal", false),
      humanAnsweredIsTerminal: config.boolean("human_answered_is_terminal", true),
    };
  },

  classify(contact, attempt, previous, rules) {
    switch (attempt.outcome) {
      case "answered":
        // A machine, a fax or a call-screening assistant is not the person.
        if (["machine", "fax", "call-screening"].includes(attempt.machineDetection)) {
          return disposition("voicemail", rules.voicemailIsTerminal);
        }
        return disposition("human_answered", rules.humanAnsweredIsTerminal);
      case "busy":
        return disposition("busy", false);
      case "no-answer":
        return disposition("no_answer", false);
      default:
        // Failed, canceled or unknown: worth another try.
        return disposition("failed", false);
    }
  },
});
