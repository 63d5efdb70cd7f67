package dev.orch.server;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * An object's answer, {@code {"result": …}}, whose result carries references (PROTOCOL.md §5),
 * with the hold taken on each for the session it goes to. The connection that writes it turns
 * the holds into that session's references, or gives them back if the answer never leaves.
 * Built on the server alone: a body parsed from a client is never one.
 */
final class HeldAnswer extends JsonObject {
    /** One id per hold, as many times as the result refers to it. */
    final List<String> held;

    HeldAnswer(Object result, List<String> held) {
        put("result", result);
        this.held = held;
    }

    /** The holds an answer carries, or null. */
    static List<String> of(Object reply) {
        return reply instanceof HeldAnswer ? ((HeldAnswer) reply).held : null;
    }
}
