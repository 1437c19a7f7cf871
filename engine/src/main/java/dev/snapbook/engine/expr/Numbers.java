package dev.snapbook.engine.expr;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Exact comparison of the numbers expressions meet: whole numbers ({@link Long} from playbooks, narrower
 * types from step results) and floating point numbers ({@link Double}). Two whole numbers are compared as
 * longs; any other pair by its exact decimal value, so that no whole number above 2<sup>53</sup> is rounded
 * to its neighbour on the way ({@code 9007199254740993 == 9007199254740992} is false).
 */
final class Numbers {

    private Numbers() {
    }

    /** True for the whole-number types that hold a long exactly. */
    static boolean integral(Number n) {
        return n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte
                || n instanceof BigInteger b && b.bitLength() < Long.SIZE;
    }

    static boolean isNaN(Number n) {
        return n instanceof Double d && d.isNaN() || n instanceof Float f && f.isNaN();
    }

    /** Numeric equality; NaN equals nothing. */
    static boolean equal(Number a, Number b) {
        return !isNaN(a) && !isNaN(b) && compare(a, b) == 0;
    }

    /** The order of two numbers that are not NaN. */
    static int compare(Number a, Number b) {
        if (integral(a) && integral(b)) {
            return Long.compare(a.longValue(), b.longValue());
        }
        if (infinite(a) || infinite(b)) {
            return Double.compare(a.doubleValue(), b.doubleValue());
        }
        return exact(a).compareTo(exact(b));
    }

    private static boolean infinite(Number n) {
        return (n instanceof Double || n instanceof Float) && Double.isInfinite(n.doubleValue());
    }

    private static BigDecimal exact(Number n) {
        if (integral(n)) {
            return BigDecimal.valueOf(n.longValue());
        }
        if (n instanceof BigDecimal d) {
            return d;
        }
        if (n instanceof BigInteger b) {
            return new BigDecimal(b);
        }
        return new BigDecimal(n.doubleValue()); // the double's exact binary value, not its shortest decimal
    }
}
