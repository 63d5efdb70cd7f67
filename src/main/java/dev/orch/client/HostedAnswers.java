package dev.orch.client;

import dev.orch.protocol.Characters;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.FrameCodec;
import dev.orch.protocol.Frames;
import dev.orch.protocol.NotJsonException;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonObject;
import java.util.function.Supplier;

/**
 * Encodes what this process answers for the objects it hosts (PROTOCOL.md §7), each answer held
 * to the largest frame the orch server takes. A bigger answer sent to the server would make it
 * close this process's connection, and every object hosted here would be gone (410) for one
 * call's result; instead that call alone fails with 500 {@code ValueError}. Direct answers are
 * held to the same limit, so a call fails or not whichever route it takes.
 */
final class HostedAnswers {
    /** How much of an error message is kept when the whole one does not fit a frame. */
    static final int KEPT_MESSAGE_CHARS = 1024;

    /** How one route frames an answer: a {@code send} to the server, or a direct connection's frames. */
    interface Framing {
        /** The whole frame carrying {@code result}; throws for a result that is not JSON. */
        byte[] result(Object result);

        byte[] failure(OrchException e);
    }

    private HostedAnswers() {
    }

    /** Answers through the server: {@code {"result":…}} or {@code {"error":…}} sent to {@code replyAddress}. */
    static Framing viaServer(String replyAddress) {
        return new Framing() {
            @Override
            public byte[] result(Object result) {
                return FrameCodec.encodeSendBytes(replyAddress, null, new JsonObject().put("result", result));
            }

            @Override
            public byte[] failure(OrchException e) {
                return FrameCodec.encodeSendBytes(replyAddress, null, errorBody(e));
            }
        };
    }

    /** Answers on a direct connection: a {@code message} with the result, or an {@code err} frame. */
    static Framing direct(String replyAddress) {
        return new Framing() {
            @Override
            public byte[] result(Object result) {
                return FrameCodec.encodeMessageBytes(replyAddress, new JsonObject().put("result", result));
            }

            @Override
            public byte[] failure(OrchException e) {
                return FrameCodec.encodeBytes(Frames.err(replyAddress, e));
            }
        };
    }

    /**
     * Runs {@code call} and encodes its result, or its failure: whatever it throws, a result
     * that cannot be sent (not JSON, nested deeper than a frame takes), and a result larger than
     * {@code limit} bytes (a frame's payload) all become the call's own error answer.
     */
    static byte[] answer(Framing framing, long limit, Supplier<Object> call) {
        Object result;
        try {
            result = call.get();
        } catch (Throwable e) {
            return failure(framing, limit, e);
        }
        byte[] frame;
        try {
            frame = framing.result(result);
        } catch (Throwable e) {
            return failure(framing, limit, unsendable(e));
        }
        int size = frame.length - 4;
        if (size > limit) {
            return failure(framing, limit, OrchException.raised("ValueError", "the result is " + size
                    + " bytes; the orch server takes frames of at most " + limit + " (server --max-frame)"));
        }
        return frame;
    }

    /**
     * Why a result could not be encoded, as the caller gets it. Too deep is the result's fault,
     * not the request's: a 500 {@code ValueError} as the server makes of an answer it cannot
     * write, not the 400 the encoder raises for a request.
     */
    private static Throwable unsendable(Throwable e) {
        if (e instanceof OrchException && ((OrchException) e).failureCode() == ErrorCode.BAD_REQUEST.code()) {
            return FrameCodec.resultTooDeep();
        }
        if (e instanceof NotJsonException) {
            return OrchException.raised("TypeError", "the result is not JSON: " + e.getMessage());
        }
        if (e instanceof IllegalArgumentException) {
            return OrchException.raised("ValueError", "the result cannot be sent: " + e.getMessage());
        }
        return e;
    }

    /**
     * The error answer for {@code e}. A message too long for a frame (an exception quoting a huge
     * value) is cut rather than sent whole: the caller still learns the error's code and name.
     */
    static byte[] failure(Framing framing, long limit, Throwable e) {
        OrchException oe = asOrchException(e);
        byte[] frame = framing.failure(oe);
        if (frame.length - 4 <= limit) {
            return frame;
        }
        String detail = oe.detail() == null ? "" : oe.detail();
        String note = " (cut from " + Characters.count(detail) + " characters: the orch server takes frames of at most "
                + limit + " bytes, server --max-frame)";
        frame = framing.failure(new OrchException(oe.failureCode(), oe.name(),
                Characters.clip(detail, KEPT_MESSAGE_CHARS) + note));
        if (frame.length - 4 <= limit) {
            return frame;
        }
        // A limit smaller than any useful message (or a huge error name): still fail this call alone.
        return framing.failure(OrchException.raised("ValueError", "the error is too large for a frame"));
    }

    /**
     * A hosted method's failure as the protocol describes it: its own code, or a 500 with a
     * Python-style name. A code a method may not fail with (401 or 413, say, from a call the
     * method made itself) is a 502, as the server makes of it: a direct call fails alike.
     */
    static OrchException asOrchException(Throwable e) {
        if (e instanceof OrchException) {
            OrchException oe = (OrchException) e;
            if (!ErrorCode.isMethodFailure(oe.failureCode())) {
                return new OrchException(ErrorCode.BAD_REPLY, "the method failed with code " + oe.failureCode() + " ("
                        + oe.wireMessage() + "), which is not a method's failure (400-599, not 401 or 413)");
            }
            return oe;
        }
        if (e instanceof io.vertx.core.json.EncodeException) {
            return OrchException.raised("TypeError", "the result is not JSON: " + e.getMessage());
        }
        return OrchException.raised(pythonName(e), withCauses(e));
    }

    /** How many causes a message names at most: enough for a wrapped wrapper, bounded for a loop. */
    static final int MAX_CAUSES = 4;

    /**
     * {@code e}'s message followed by its causes ({@code "save failed; caused by IOException:
     * disk full"}): the caller sees no stack trace, and the cause is often the only part that
     * says what went wrong. A cause whose text the message already holds (as
     * {@code new RuntimeException(cause)} makes it) is not repeated.
     */
    static String withCauses(Throwable e) {
        StringBuilder text = new StringBuilder(e.getMessage() == null ? "" : e.getMessage());
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        seen.add(e);
        int named = 0;
        for (Throwable c = e.getCause(); c != null && seen.add(c) && named < MAX_CAUSES; c = c.getCause()) {
            if (text.indexOf(c.toString()) >= 0) {
                continue;
            }
            text.append(text.length() == 0 ? "" : "; ").append("caused by ").append(c.getClass().getSimpleName());
            if (c.getMessage() != null) {
                text.append(": ").append(c.getMessage());
            }
            named++;
        }
        return text.toString();
    }

    /** The {@code {"error":{"code","name","message"}}} body of a failure sent through the server. */
    static JsonObject errorBody(Throwable e) {
        OrchException oe = asOrchException(e);
        return new JsonObject().put("error", new JsonObject().put("code", oe.failureCode()).put("name", oe.name())
                .put("message", oe.detail()));
    }

    /** Java exceptions in Python's vocabulary where one fits, so clients map them alike. */
    static String pythonName(Throwable e) {
        if (e instanceof IllegalArgumentException) {
            return "ValueError";
        }
        if (e instanceof IndexOutOfBoundsException) {
            return "IndexError";
        }
        if (e instanceof UnsupportedOperationException) {
            return "NotImplementedError";
        }
        if (e instanceof ClassCastException) {
            return "TypeError";
        }
        return e.getClass().getSimpleName();
    }
}
