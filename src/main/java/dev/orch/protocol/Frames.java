package dev.orch.protocol;

import io.vertx.core.json.JsonObject;

/**
 * Builders for the JSON frames of the TCP event-bus bridge protocol, shared by server and clients.
 */
public final class Frames {
    public static final String TYPE = "type";
    public static final String ADDRESS = "address";
    public static final String REPLY_ADDRESS = "replyAddress";
    public static final String BODY = "body";
    /** The field of a cancel's body (PROTOCOL.md §5). */
    public static final String CANCEL = "cancel";

    public static final String SEND = "send";
    public static final String PUBLISH = "publish";
    public static final String REGISTER = "register";
    public static final String UNREGISTER = "unregister";
    public static final String PING = "ping";
    public static final String PONG = "pong";
    public static final String MESSAGE = "message";
    public static final String ERR = "err";

    public static final String RECIPIENT_FAILURE = "RECIPIENT_FAILURE";

    private static final JsonObject PONG_FRAME = new JsonObject().put(TYPE, PONG);

    private Frames() {
    }

    public static JsonObject send(String address, String replyAddress, JsonObject body) {
        JsonObject f = new JsonObject().put(TYPE, SEND).put(ADDRESS, address);
        if (replyAddress != null) {
            f.put(REPLY_ADDRESS, replyAddress);
        }
        return f.put(BODY, body);
    }

    public static JsonObject register(String address) {
        return new JsonObject().put(TYPE, REGISTER).put(ADDRESS, address);
    }

    public static JsonObject unregister(String address) {
        return new JsonObject().put(TYPE, UNREGISTER).put(ADDRESS, address);
    }

    public static JsonObject ping() {
        return new JsonObject().put(TYPE, PING);
    }

    public static JsonObject pong() {
        return PONG_FRAME;
    }

    /**
     * True for the body of a cancel ({@code {"cancel": R}}, PROTOCOL.md §5): sent to an object's
     * address, it withdraws the session's parked call R instead of calling a method.
     */
    public static boolean isCancel(JsonObject body) {
        return body.containsKey(CANCEL) && !body.containsKey("method");
    }

    /** Whether {@code body} is both a call and a cancel, which a server refuses (PROTOCOL.md §5). */
    public static boolean isCallAndCancel(JsonObject body) {
        return body.containsKey(CANCEL) && body.containsKey("method");
    }

    /** The body of a cancel for the call whose reply address is {@code replyAddress}. */
    public static JsonObject cancel(String replyAddress) {
        return new JsonObject().put(CANCEL, replyAddress);
    }

    /** A message delivered to a client; {@code replyAddress} is set when the sender awaits a reply. */
    public static JsonObject message(String address, String replyAddress, Object body) {
        JsonObject f = new JsonObject().put(TYPE, MESSAGE).put(ADDRESS, address);
        if (replyAddress != null) {
            f.put(REPLY_ADDRESS, replyAddress);
        }
        return f.put(BODY, body);
    }

    /** An error frame; {@code address} is the reply address of the failed request, or null. */
    public static JsonObject err(String address, OrchException e) {
        JsonObject f = new JsonObject().put(TYPE, ERR);
        if (address != null) {
            f.put(ADDRESS, address);
        }
        return f.put("failureCode", e.failureCode())
                .put("failureType", RECIPIENT_FAILURE)
                .put("name", e.name())
                .put("message", e.wireMessage());
    }

    /** A JSON value a peer sent, as an error message may quote it: a string in quotes, and not a huge one whole. */
    public static String shownValue(Object value) {
        return Characters.clip(value instanceof String ? "'" + value + "'" : String.valueOf(value), 40);
    }

    /**
     * The exception an {@code err} frame describes. A worker answering a direct call writes its
     * own frames: one whose {@code failureCode} is not an integer from 400 to 599 is a 502
     * {@code BadReply}, as the server makes of such a code.
     */
    public static OrchException toException(JsonObject errFrame) {
        Object rawCode = errFrame.getValue("failureCode");
        int code = rawCode == null ? ErrorCode.REMOTE.code() : ErrorCode.fromJson(rawCode);
        if (code < 0) {
            return new OrchException(ErrorCode.BAD_REPLY, "the answer's failureCode " + shownValue(rawCode) + " is not a code (400-599)");
        }
        Object n = errFrame.getValue("name");
        Object m = errFrame.getValue("message");
        String name = n instanceof String ? (String) n : null;
        String message = m instanceof String ? (String) m : "";
        OrchException e = OrchException.fromWire(code, message);
        if (name != null && !name.equals(e.name())) {
            return new OrchException(code, name, message);
        }
        return e;
    }
}
