package dev.orch.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.JsonGeneratorDelegate;
import java.io.IOException;

/**
 * A generator that refuses NaN and the infinities. JSON has no such numbers, and Jackson would
 * write them as the strings {@code "NaN"} and {@code "Infinity"}: a value that silently changes
 * type on its way (Python's client refuses them too, with {@code allow_nan=False}).
 */
final class FiniteNumbers extends JsonGeneratorDelegate {
    FiniteNumbers(JsonGenerator g) {
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

    private static double check(double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException(v + " cannot be sent: JSON has no NaN or infinite numbers");
        }
        return v;
    }
}
