package dev.orch.client;

import io.vertx.core.json.JsonArray;
import java.lang.reflect.Array;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.Map;

/**
 * One public method of a hosted class, as calls with JSON arguments reach it: whether it takes
 * a number of arguments, their conversion to its parameter types, and which of two overloads
 * that both take some arguments is the more specific (Java's rule, JLS 15.12.2.5, on the
 * argument types; a number written with a fraction part, {@code 2.0}, fits a floating-point
 * parameter better than an integral one).
 */
final class Overload {
    /** What {@link Overload#convert} found: the Java arguments, or why they do not fit. */
    static final class Fit {
        final Overload overload;
        final Object[] args;
        final String refusal;

        private Fit(Overload overload, Object[] args, String refusal) {
            this.overload = overload;
            this.args = args;
            this.refusal = refusal;
        }

        boolean fits() {
            return refusal == null;
        }
    }

    private static final Map<Class<?>, Class<?>> BOXES = Map.of(boolean.class, Boolean.class, byte.class, Byte.class,
            short.class, Short.class, char.class, Character.class, int.class, Integer.class, long.class, Long.class,
            float.class, Float.class, double.class, Double.class);

    /** The method to invoke: the class's own, or the same method of a public supertype (see {@link HostedMethods}). */
    final Method method;
    private final Class<?>[] params;
    private final Type[] generic;
    private final boolean varargs;
    private final String signature;

    Overload(Method declared, Method invoked) {
        this.method = invoked;
        this.params = declared.getParameterTypes();
        this.generic = declared.getGenericParameterTypes();
        this.varargs = declared.isVarArgs();
        this.signature = signature(declared);
    }

    /** E.g. {@code add(int, int)} or {@code sum(int...)}. */
    String signature() {
        return signature;
    }

    boolean varargs() {
        return varargs;
    }

    int arity() {
        return params.length;
    }

    /** True when {@code n} arguments can be its variable-arity call (the array's elements given one by one). */
    boolean takesSpread(int n) {
        return varargs && n >= params.length - 1;
    }

    /**
     * The Java arguments for {@code args}: each converted to its parameter's type, or with
     * {@code spread} the trailing ones to the varargs array's elements.
     */
    Fit convert(JsonArray args, boolean spread) {
        int n = args.size();
        int fixed = spread ? params.length - 1 : params.length;
        Object[] out = new Object[params.length];
        for (int i = 0; i < fixed; i++) {
            try {
                out[i] = JsonMapping.toJava(args.getValue(i), generic[i]);
            } catch (JsonMapping.Mismatch e) {
                return refused(i, e);
            }
        }
        if (spread) {
            Class<?> component = params[fixed].getComponentType();
            Type genericComponent = generic[fixed] instanceof GenericArrayType
                    ? ((GenericArrayType) generic[fixed]).getGenericComponentType() : component;
            Object rest = Array.newInstance(component, n - fixed);
            for (int i = fixed; i < n; i++) {
                try {
                    Array.set(rest, i - fixed, JsonMapping.toJava(args.getValue(i), genericComponent));
                } catch (JsonMapping.Mismatch e) {
                    return refused(i, e);
                }
            }
            out[fixed] = rest;
        }
        return new Fit(this, out, null);
    }

    private Fit refused(int index, JsonMapping.Mismatch e) {
        return new Fit(this, null, "argument " + (index + 1) + ": " + e.getMessage());
    }

    /** The type argument {@code i} of {@code n} goes to (a varargs element type past the fixed ones when spread). */
    private Class<?> typeAt(int i, boolean spread) {
        return spread && i >= params.length - 1 ? params[params.length - 1].getComponentType() : params[i];
    }

    /**
     * True when a number or boolean of {@code args} goes to a reference parameter ({@code Integer},
     * {@code Object}…): a call Java makes only in its second phase, when no overload takes the
     * arguments without boxing (JLS 15.12.2.2–3), JSON's numbers and booleans standing for Java's
     * primitive literals.
     */
    boolean boxes(JsonArray args, boolean spread) {
        for (int i = 0; i < args.size(); i++) {
            Object a = args.getValue(i);
            if ((a instanceof Number || a instanceof Boolean) && !typeAt(i, spread).isPrimitive()) {
                return true;
            }
        }
        return false;
    }

    /**
     * True when this overload is at least as specific as {@code other} for {@code args}: each
     * argument's type here is the same as, or a subtype (a narrower primitive) of, the other's.
     */
    boolean atLeastAsSpecificAs(Overload other, JsonArray args, boolean spread) {
        for (int i = 0; i < args.size(); i++) {
            if (!narrower(typeAt(i, spread), other.typeAt(i, spread), args.getValue(i))) {
                return false;
            }
        }
        // Java's rule with no arguments to tell them apart (f() and f(int...)): the fixed arity wins.
        return args.size() > 0 || !varargs || other.varargs;
    }

    private static boolean narrower(Class<?> a, Class<?> b, Object arg) {
        if (a == b) {
            return true;
        }
        if (arg instanceof Double || arg instanceof Float || arg instanceof java.math.BigDecimal) {
            // 2.0 was written as a float: a floating-point parameter takes it as it was meant.
            if (integral(a) && floating(b)) {
                return false;
            }
            if (floating(a) && integral(b)) {
                return true;
            }
        }
        if (a.isPrimitive() && b.isPrimitive()) {
            return widens(a, b);
        }
        if (a.isPrimitive()) {
            return b.isAssignableFrom(BOXES.get(a));
        }
        return !b.isPrimitive() && b.isAssignableFrom(a);
    }

    /** Java's widening primitive conversions (JLS 5.1.2). */
    private static boolean widens(Class<?> from, Class<?> to) {
        int f = rank(from);
        int t = rank(to);
        if (from == char.class) {
            return t >= rank(int.class);
        }
        if (to == char.class || from == boolean.class || to == boolean.class) {
            return false;
        }
        return f < t;
    }

    private static int rank(Class<?> c) {
        if (c == byte.class) {
            return 1;
        }
        if (c == short.class) {
            return 2;
        }
        if (c == int.class) {
            return 3;
        }
        if (c == long.class) {
            return 4;
        }
        if (c == float.class) {
            return 5;
        }
        return c == double.class ? 6 : 0;
    }

    private static boolean integral(Class<?> c) {
        return c == int.class || c == long.class || c == short.class || c == byte.class || c == Integer.class
                || c == Long.class || c == Short.class || c == Byte.class || c == java.math.BigInteger.class;
    }

    private static boolean floating(Class<?> c) {
        return c == double.class || c == float.class || c == Double.class || c == Float.class
                || c == java.math.BigDecimal.class;
    }

    private static String signature(Method m) {
        StringBuilder s = new StringBuilder(m.getName()).append('(');
        Class<?>[] p = m.getParameterTypes();
        for (int i = 0; i < p.length; i++) {
            if (i > 0) {
                s.append(", ");
            }
            if (i == p.length - 1 && m.isVarArgs()) {
                s.append(p[i].getComponentType().getSimpleName()).append("...");
            } else {
                s.append(p[i].getSimpleName());
            }
        }
        return s.append(')').toString();
    }

    @Override
    public String toString() {
        return signature;
    }
}
