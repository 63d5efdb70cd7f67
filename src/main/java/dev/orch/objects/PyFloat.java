package dev.orch.objects;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Python's {@code repr(float)}: the shortest decimal that reads back as the same double (the
 * closest of those), fixed-point from 1e-4 up to 1e16, else with an exponent ({@code 1e+16},
 * {@code 1.5e-05}). Java's {@code Double.toString} differs in form ({@code 1.0E16}) and, before
 * Java 19, sometimes gives digits more than needed.
 */
final class PyFloat {
    private static final long FRACTION_BITS = 0x000F_FFFF_FFFF_FFFFL;

    private PyFloat() {
    }

    /** {@code repr(d)} as Python prints it. */
    static String repr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return Double.doubleToRawLongBits(d) < 0 ? "-0.0" : "0.0";
        }
        BigDecimal shortest = shortest(Math.abs(d)).stripTrailingZeros();
        String digits = shortest.unscaledValue().toString();
        // The decimal exponent of the leading digit: d = D.DDD × 10^exponent.
        int exponent = digits.length() - 1 - shortest.scale();
        StringBuilder b = new StringBuilder(24);
        if (d < 0) {
            b.append('-');
        }
        if (exponent < -4 || exponent >= 16) {
            b.append(digits.charAt(0));
            if (digits.length() > 1) {
                b.append('.').append(digits, 1, digits.length());
            }
            b.append(exponent < 0 ? "e-" : "e+");
            int e = Math.abs(exponent);
            return b.append(e < 10 ? "0" : "").append(e).toString();
        }
        if (exponent < 0) {
            b.append("0.");
            b.append("0".repeat(-exponent - 1)).append(digits);
            return b.toString();
        }
        if (digits.length() <= exponent + 1) {
            b.append(digits).append("0".repeat(exponent + 1 - digits.length())).append(".0");
            return b.toString();
        }
        return b.append(digits, 0, exponent + 1).append('.').append(digits, exponent + 1, digits.length()).toString();
    }

    /** The decimal of fewest digits that reads back as {@code a} (positive, finite), the closest such. */
    private static BigDecimal shortest(double a) {
        BigDecimal exact = new BigDecimal(a);
        // Java's digits always read back, so they bound the search.
        BigDecimal java = new BigDecimal(Double.toString(a));
        int most = java.stripTrailingZeros().precision();
        if ((Double.doubleToRawLongBits(a) & FRACTION_BITS) == 0) {
            // A power of two: the doubles below are closer than those above, so the nearest
            // rounding may miss where rounding up reads back; try both, fewest digits first.
            for (int p = 1; p <= most; p++) {
                BigDecimal near = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
                if (near.doubleValue() == a) {
                    return near;
                }
                BigDecimal up = exact.round(new MathContext(p, RoundingMode.CEILING));
                if (up.doubleValue() == a) {
                    return up;
                }
            }
            return java;
        }
        // Elsewhere the doubles around are equally far, so if p digits read back so do p + 1:
        // a binary search finds the fewest. Most doubles need all of Java's digits but one or
        // none, so those two are tried first.
        BigDecimal fewer = exact.round(new MathContext(Math.max(1, most - 1), RoundingMode.HALF_EVEN));
        if (fewer.doubleValue() != a) {
            return exact.round(new MathContext(most, RoundingMode.HALF_EVEN));
        }
        int lo = 1;
        int hi = Math.max(1, most - 1);
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (exact.round(new MathContext(mid, RoundingMode.HALF_EVEN)).doubleValue() == a) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return exact.round(new MathContext(lo, RoundingMode.HALF_EVEN));
    }
}
