package dev.orch.client;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The methods a hosted class exposes: its public instance methods, not those of {@link Object},
 * grouped by name, each in a form this package can invoke. Worked out once per class.
 *
 * <p>A public method of a class that is not public itself (a package-private nested class, say)
 * cannot be invoked through its own {@link Method} from this package. It is made accessible
 * where the class's module allows (every class on the class path), or else reached through the
 * same method of a public supertype (an interface it implements); a method reachable neither way
 * is {@linkplain #unreachable() unreachable}, and hosting the class is refused.
 */
final class HostedMethods {
    private static final ClassValue<HostedMethods> BY_CLASS = new ClassValue<>() {
        @Override
        protected HostedMethods computeValue(Class<?> type) {
            return new HostedMethods(type);
        }
    };

    private final Class<?> type;
    private final Map<String, List<Overload>> byName;
    private final List<String> unreachable = new ArrayList<>();

    private HostedMethods(Class<?> type) {
        this.type = type;
        Map<String, List<Overload>> names = new TreeMap<>();
        List<Method> methods = exposed(type);
        for (Method m : methods) {
            if (bridgeWithTarget(m, methods)) {
                // A compiler's bridge for a generic or covariant override: the method it calls is here too.
                continue;
            }
            Method invoked = reachable(type, m);
            if (invoked == null) {
                unreachable.add(m.getName() + Arrays.toString(m.getParameterTypes()));
                continue;
            }
            names.computeIfAbsent(m.getName(), k -> new ArrayList<>()).add(new Overload(m, invoked));
        }
        Map<String, List<Overload>> sorted = new LinkedHashMap<>();
        names.forEach((name, list) -> {
            // A fixed order, whatever order getMethods() gives, so choices and messages are stable.
            list.sort(Comparator.comparingInt(Overload::arity).thenComparing(Overload::signature));
            sorted.put(name, Collections.unmodifiableList(list));
        });
        this.byName = Collections.unmodifiableMap(sorted);
    }

    static HostedMethods of(Class<?> type) {
        return BY_CLASS.get(type);
    }

    Class<?> type() {
        return type;
    }

    /** The exposed names, sorted. */
    List<String> names() {
        return new ArrayList<>(byName.keySet());
    }

    /** The overloads named {@code name}, in a fixed order; empty when there is none. */
    List<Overload> overloads(String name) {
        return byName.getOrDefault(name, List.of());
    }

    /** Public methods that cannot be invoked from here (as {@code name[parameter types]}). */
    List<String> unreachable() {
        return unreachable;
    }

    /** The public instance methods of {@code type} that hosting exposes. */
    static List<Method> exposed(Class<?> type) {
        List<Method> out = new ArrayList<>();
        for (Method m : type.getMethods()) {
            if (m.getDeclaringClass() != Object.class && !Modifier.isStatic(m.getModifiers())) {
                out.add(m);
            }
        }
        return out;
    }

    /**
     * True for a bridge method whose target, a method of the same name taking narrower
     * parameters, is among {@code methods}. A bridge without one is kept: javac makes a public
     * class's inherited methods from a package-private superclass reachable through such bridges.
     */
    private static boolean bridgeWithTarget(Method bridge, List<Method> methods) {
        if (!bridge.isBridge()) {
            return false;
        }
        for (Method m : methods) {
            if (m != bridge && !m.isBridge() && m.getName().equals(bridge.getName())
                    && m.getParameterCount() == bridge.getParameterCount() && narrower(m.getParameterTypes(), bridge.getParameterTypes())) {
                return true;
            }
        }
        return false;
    }

    private static boolean narrower(Class<?>[] a, Class<?>[] b) {
        for (int i = 0; i < a.length; i++) {
            if (!b[i].isAssignableFrom(a[i])) {
                return false;
            }
        }
        return true;
    }

    /** {@code m} in a form that can be invoked on instances of {@code type}, or null. */
    private static Method reachable(Class<?> type, Method m) {
        if (publiclyReachable(m) || m.trySetAccessible()) {
            return m;
        }
        for (Class<?> s : supertypes(type)) {
            try {
                Method same = s.getMethod(m.getName(), m.getParameterTypes());
                if (publiclyReachable(same)) {
                    return same;
                }
            } catch (NoSuchMethodException e) {
                // Not declared there: try the next supertype.
            }
        }
        return null;
    }

    /** True when {@code m} is invoked without access checks failing: public, in a public class of an exported package. */
    private static boolean publiclyReachable(Method m) {
        Class<?> c = m.getDeclaringClass();
        // A nested class's own modifier is what the JVM checks (a public class nested in a
        // package-private one is public), not its enclosing class's.
        return Modifier.isPublic(m.getModifiers()) && Modifier.isPublic(c.getModifiers())
                && c.getModule().isExported(c.getPackageName(), HostedMethods.class.getModule());
    }

    /** Every superclass and interface of {@code type}, nearest first. */
    private static List<Class<?>> supertypes(Class<?> type) {
        List<Class<?>> out = new ArrayList<>();
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (c != type) {
                out.add(c);
            }
            addInterfaces(c, out);
        }
        return out;
    }

    private static void addInterfaces(Class<?> c, List<Class<?>> out) {
        for (Class<?> i : c.getInterfaces()) {
            if (!out.contains(i)) {
                out.add(i);
                addInterfaces(i, out);
            }
        }
    }
}
