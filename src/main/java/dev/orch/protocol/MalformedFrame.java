package dev.orch.protocol;

/**
 * A complete frame whose payload could not be taken (not JSON, not an object, nested too deeply,
 * a number out of range): 400, with what could still be read of its envelope, so that the
 * error can be sent to the request's reply address instead of leaving its caller waiting.
 */
public final class MalformedFrame extends OrchException {
    private final String type;
    private final String address;
    private final String replyAddress;

    MalformedFrame(String detail, String type, String address, String replyAddress) {
        super(ErrorCode.BAD_REQUEST, detail);
        this.type = type;
        this.address = address;
        this.replyAddress = replyAddress;
    }

    /** The frame's {@code type}, if it came before the fault; else null. */
    public String type() {
        return type;
    }

    /** The frame's {@code address}, if it came before the fault; else null. */
    public String address() {
        return address;
    }

    /** The frame's {@code replyAddress}, if it came before the fault; else null. */
    public String replyAddress() {
        return replyAddress;
    }
}
