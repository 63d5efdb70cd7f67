package dev.orch.objects;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@link PyFloat#repr} against what CPython's {@code repr(float)} prints for the same doubles. */
class PyFloatTest {

    private static void reprs(String python, double d) {
        assertEquals(python, PyFloat.repr(d), () -> Double.toHexString(d));
    }

    @Test
    void fixedPointFromOneTenThousandthToTenToTheSixteenth() {
        reprs("0.0", 0.0);
        reprs("-0.0", -0.0);
        reprs("1.0", 1.0);
        reprs("1.5", 1.5);
        reprs("-1.5", -1.5);
        reprs("100.0", 100.0);
        reprs("0.1", 0.1);
        reprs("0.3", 0.3);
        reprs("0.3333333333333333", 1.0 / 3);
        reprs("0.6666666666666666", 2.0 / 3);
        reprs("123456789.123", 123456789.123);
        reprs("0.0001", 1e-4);
        reprs("0.00012345", 0.00012345);
        reprs("1000000000000000.0", 1e15);
        reprs("9999999999999998.0", 9999999999999998.0);
    }

    @Test
    void exponentOutsideThatRange() {
        reprs("1e+16", 1e16);
        reprs("1.5e+16", 1.5e16);
        reprs("1e-05", 1e-5);
        reprs("1.2345678901234567e+19", 12345678901234567890.0);
        reprs("-1.5e-300", -1.5e-300);
        reprs("1.7976931348623157e+308", Double.MAX_VALUE);
        reprs("5e-324", Double.MIN_VALUE);
        reprs("2.2250738585072014e-308", Double.MIN_NORMAL);
    }

    @Test
    void fewestDigitsWhereJava17GivesMore() {
        // Java 17's Double.toString: 9.999999999999999E22 and 2.82879384806159008E17.
        reprs("1e+23", 1e23);
        reprs("2.82879384806159e+17", 0x1.f67ea69ed3795p+57);
        reprs("1e+22", 1e22);
    }

    @Test
    void powersOfTwo() {
        reprs("1.152921504606847e+18", 0x1p60);
        reprs("9.313225746154785e-10", 0x1p-30);
        reprs("0.5", 0.5);
    }

    @Test
    void nonFiniteAsPythonNamesThem() {
        reprs("inf", Double.POSITIVE_INFINITY);
        reprs("-inf", Double.NEGATIVE_INFINITY);
        reprs("nan", Double.NaN);
    }
}
