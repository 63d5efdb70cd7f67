package dev.orch.protocol;

import com.fasterxml.jackson.core.Base64Variant;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.JsonGeneratorDelegate;
import java.io.IOException;
import java.io.InputStream;

/**
 * A generator that refuses what JSON has no type for, where Jackson would write it as something
 * else: NaN and the infinities (Jackson writes the strings {@code "NaN"} and {@code "Infinity"})
 * and binary data (Jackson writes a base64 string). Either would arrive as a value of another
 * type; Python's client refuses them too ({@code allow_nan=False}, bytes are not serializable).
 * Every value written to a frame goes through it, the application's JSON mapper's too (POJOs).
 */
final class JsonOnly extends JsonGeneratorDelegate {
    JsonOnly(JsonGenerator g) {
        super(g, false);
    }

    @Override
    public void writeNumber(double v) throws IOException {
        super.writeNumber(check(v));
    }

    @Override
    public void writeNumber(float v) throws IOException {
        super.writeNumber((float) check(v));
    }

    @Override
    public void writeBinary(Base64Variant b64variant, byte[] data, int offset, int len) throws IOException {
        throw JsonValues.binary();
    }

    @Override
    public int writeBinary(Base64Variant b64variant, InputStream data, int dataLength) throws IOException {
        throw JsonValues.binary();
    }

    @Override
    public void writeBinary(byte[] data, int offset, int len) throws IOException {
        throw JsonValues.binary();
    }

    @Override
    public void writeBinary(byte[] data) throws IOException {
        throw JsonValues.binary();
    }

    @Override
    public int writeBinary(InputStream data, int dataLength) throws IOException {
        throw JsonValues.binary();
    }

    @Override
    public void writeEmbeddedObject(Object object) throws IOException {
        if (object instanceof byte[]) {
            throw JsonValues.binary();
        }
        super.writeEmbeddedObject(object);
    }

    static double check(double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException(v + " cannot be sent: JSON has no NaN or infinite numbers");
        }
        return v;
    }
}
