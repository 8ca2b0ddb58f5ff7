// The push actions matrix-js-sdk (Element Web's SDK) computes for a decrypted event, as a client
// does. Used by tests/unit/test_reach_push_rules.py when RECONNECT_JS_SDK names a node_modules
// folder holding matrix-js-sdk. Reads {rules, reader, room_id, members, event} as JSON on stdin,
// writes {notify, highlight} on stdout.
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const sdk = (p) => pathToFileURL(path.join(process.env.RECONNECT_JS_SDK, "matrix-js-sdk", "lib", p)).href;
const { PushProcessor } = await import(sdk("pushprocessor.js"));
const { MatrixEvent } = await import(sdk("models/event.js"));

const input = JSON.parse(readFileSync(0, "utf8"));
const room = {
  roomId: input.room_id,
  currentState: {
    members: {},
    getJoinedMemberCount: () => input.members,
    getMember: () => null,
    mayTriggerNotifOfType: () => false,
  },
};
const client = {
  pushRules: input.rules,
  credentials: { userId: input.reader },
  getUserId: () => input.reader,
  getSafeUserId: () => input.reader,
  getRoom: () => room,
  supportsIntentionalMentions: () => true,
};
const event = new MatrixEvent({ ...input.event, room_id: input.room_id, event_id: "$e", origin_server_ts: 1 });
const actions = new PushProcessor(client).actionsForEvent(event);
process.stdout.write(JSON.stringify({ notify: Boolean(actions.notify), highlight: Boolean(actions.tweaks?.highlight) }));
