package dev.orch.server;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * Event-bus codec for JSON object bodies that hands the same instance to a local receiver
 * instead of Vert.x's deep copy; across a clustered bus it encodes JSON like the stock codec.
 *
 * <p>Only for bodies whose sender lets go of them: once sent, a body must not be changed by the
 * sender, and a receiver may keep or change what it received. The server's hot paths (forwarded
 * client requests, object, manager and hosted answers) all build or parse a fresh body per message.
 */
final class SharedJsonCodec implements MessageCodec<JsonObject, JsonObject> {
    static final String NAME = "orch.json.shared";

    /** Options for a reply or send whose body is a JSON object given away (never mutate it). */
    static final DeliveryOptions OPTIONS = new DeliveryOptions().setCodecName(NAME);

    private SharedJsonCodec() {
    }

    /** Registers the codec on {@code vertx}; a second server on the same Vert.x finds it there. */
    static void register(Vertx vertx) {
        try {
            vertx.eventBus().registerCodec(new SharedJsonCodec());
        } catch (IllegalStateException alreadyRegistered) {
            // Vert.x has no lookup for codecs by name; the name is ours, so it is this codec.
        }
    }

    /** Replies with {@code body}, without the local copy when it is a JSON object. */
    static void reply(Message<?> msg, Object body) {
        if (body instanceof JsonObject) {
            msg.reply(body, OPTIONS);
        } else {
            msg.reply(body);
        }
    }

    @Override
    public void encodeToWire(Buffer buffer, JsonObject body) {
        Buffer json = body.toBuffer();
        buffer.appendInt(json.length());
        buffer.appendBuffer(json);
    }

    @Override
    public JsonObject decodeFromWire(int pos, Buffer buffer) {
        int length = buffer.getInt(pos);
        return new JsonObject(buffer.slice(pos + 4, pos + 4 + length));
    }

    @Override
    public JsonObject transform(JsonObject body) {
        return body;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte systemCodecID() {
        return -1;
    }
}
