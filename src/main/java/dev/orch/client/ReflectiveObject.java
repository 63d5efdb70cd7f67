package dev.orch.client;

import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Hosts a plain Java object: its public instance methods (not those of {@link Object}) are the
 * exposed methods. Keyword arguments are not supported.
 *
 * <p>Arguments are converted from JSON with Jackson, never coerced: an argument the parameter's
 * type does not take as it is (1.5 or null for an {@code int}, 1 for a {@code String}) fails the
 * call with a {@code TypeError}. Integral parameters take whole numbers, {@code 2.0} too.
 *
 * <p>Of overloaded methods, the call runs the one whose parameters take its arguments; when
 * several do, the most specific, as Java chooses ({@code add(int, int)} over
 * {@code add(long, long)} or {@code add(Object, Object)} for {@code 1, 2}; a number written with a
 * fraction part, {@code 2.0}, goes to a floating-point parameter before an integral one). None
 * more specific than the others is a {@code TypeError} naming them. A varargs method takes its
 * trailing arguments one by one ({@code sum(1, 2, 3)} for {@code sum(int...)}), or as one JSON
 * array in their place.
 *
 * <p>A class that is not public (a package-private nested class) is hosted as well: its methods
 * are made accessible, which the class path always allows; in a named module, open the package
 * to orch, or expose the methods through a public interface and host that
 * ({@code host("T", Impl::new, PublicInterface.class)}). In a native image, register the hosted
 * class (or interface) and its methods for reflection, e.g. with Quarkus's
 * {@code @RegisterForReflection}.
 */
public final class ReflectiveObject implements HostedObject {
    private final Object target;
    private final HostedMethods methods;

    /** Exposes the public methods of {@code target}'s own class. */
    public ReflectiveObject(Object target) {
        this(target, HostedMethods.of(target.getClass()));
    }

    /** Exposes the public methods of {@code type} (a class or interface {@code target} is an instance of). */
    public ReflectiveObject(Object target, Class<?> type) {
        this(target, HostedMethods.of(type));
        if (!type.isInstance(target)) {
            throw new IllegalArgumentException(target.getClass().getName() + " is not a " + type.getName());
        }
    }

    private ReflectiveObject(Object target, HostedMethods methods) {
        this.target = target;
        this.methods = methods;
    }

    /** The public instance method names of {@code type}, sorted. */
    public static List<String> exposedMethods(Class<?> type) {
        return HostedMethods.exposed(type).stream().map(java.lang.reflect.Method::getName).distinct().sorted()
                .collect(Collectors.toList());
    }

    /**
     * Refuses, with an {@link IllegalArgumentException} that says what to do, a type with public
     * methods that could not be called: hosting it would fail every call on them.
     */
    static void requireCallable(Class<?> type) {
        List<String> unreachable = HostedMethods.of(type).unreachable();
        if (!unreachable.isEmpty()) {
            throw new IllegalArgumentException("cannot host " + type.getName() + ": " + String.join(", ", unreachable)
                    + " cannot be called from orch's client (the class is not public and its package is not open"
                    + " to it); make the class public, open its package, or host a public interface it implements");
        }
    }

    @Override
    public Object call(String method, JsonArray args, JsonObject kwargs, String callerSession) {
        if (kwargs != null && !kwargs.isEmpty()) {
            throw OrchException.raised("TypeError", method + "() takes no keyword arguments");
        }
        List<Overload> overloads = methods.overloads(method);
        if (overloads.isEmpty()) {
            throw OrchException.notFound("'" + methods.type().getSimpleName() + "' object has no method '" + method + "'");
        }
        Overload.Fit fit = choose(method, overloads, args);
        try {
            return fit.overload.method.invoke(target, fit.args);
        } catch (InvocationTargetException e) {
            throw HostedAnswers.asOrchException(e.getCause());
        } catch (IllegalAccessException e) {
            // HostedMethods gives only methods it could reach; a class changed under it is all that is left.
            throw OrchException.raised("TypeError", "method " + fit.overload + " is not accessible");
        }
    }

    /**
     * The overload to run and its arguments. As Java does, overloads taking the arguments as
     * they are (a varargs method its array as one argument) come first, and only when none does
     * a varargs method taking them one by one.
     */
    private static Overload.Fit choose(String method, List<Overload> overloads, JsonArray args) {
        int n = args.size();
        List<Overload.Fit> tried = new ArrayList<>();
        for (boolean spread : new boolean[] {false, true}) {
            List<Overload.Fit> fitting = new ArrayList<>();
            for (Overload o : overloads) {
                if (spread ? o.takesSpread(n) : o.arity() == n) {
                    Overload.Fit f = o.convert(args, spread);
                    (f.fits() ? fitting : tried).add(f);
                }
            }
            if (!fitting.isEmpty()) {
                return mostSpecific(method, fitting, args, spread);
            }
        }
        if (tried.isEmpty()) {
            throw OrchException.raised("TypeError", method + "() does not take " + n + " argument" + (n == 1 ? "" : "s")
                    + " (" + overloads.stream().map(Overload::signature).collect(Collectors.joining(", ")) + ")");
        }
        if (tried.size() == 1) {
            throw OrchException.raised("TypeError", method + "() " + tried.get(0).refusal);
        }
        throw OrchException.raised("TypeError", "no overload of " + method + "() takes these arguments: " + tried.stream()
                .map(f -> f.overload.signature() + " (" + f.refusal + ")").collect(Collectors.joining("; ")));
    }

    private static Overload.Fit mostSpecific(String method, List<Overload.Fit> fitting, JsonArray args, boolean spread) {
        if (fitting.size() > 1) {
            // As Java does: overloads that take the arguments without boxing come first, so
            // f(long) takes 5 before f(Integer) does.
            List<Overload.Fit> strict = fitting.stream().filter(f -> !f.overload.boxes(args, spread))
                    .collect(Collectors.toList());
            if (!strict.isEmpty()) {
                fitting = strict;
            }
        }
        if (fitting.size() == 1) {
            return fitting.get(0);
        }
        for (Overload.Fit f : fitting) {
            boolean best = true;
            for (Overload.Fit other : fitting) {
                if (other != f && !(f.overload.atLeastAsSpecificAs(other.overload, args, spread)
                        && !other.overload.atLeastAsSpecificAs(f.overload, args, spread))) {
                    best = false;
                    break;
                }
            }
            if (best) {
                return f;
            }
        }
        throw OrchException.raised("TypeError", method + "() is ambiguous for these arguments: "
                + fitting.stream().map(f -> f.overload.signature()).collect(Collectors.joining(", ")));
    }
}
