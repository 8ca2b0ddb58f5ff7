import { PollStartEvent } from "matrix-js-sdk/lib/extensible_events_v1/PollStartEvent.js";
import { PollResponseEvent } from "matrix-js-sdk/lib/extensible_events_v1/PollResponseEvent.js";
import { PollEndEvent } from "matrix-js-sdk/lib/extensible_events_v1/PollEndEvent.js";
import { readFileSync } from "node:fs";
const input = JSON.parse(readFileSync(0, "utf8"));
const start = new PollStartEvent({ type: input.start_type, content: input.start });
const out = { question: start.question.text, kind: start.kind, max: start.maxSelections,
              answers: start.answers.map(a => [a.id, a.text]) };
const resp = new PollResponseEvent({ type: input.response_type, content: input.response });
resp.validateAgainst(start);
out.response = resp.answerIds; out.spoiled = resp.spoiled;
const end = new PollEndEvent({ type: input.end_type, content: input.end });
out.end_ref = end.pollEventId;
console.log(JSON.stringify(out));
