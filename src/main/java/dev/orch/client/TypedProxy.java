package dev.orch.client;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.type.TypeBindings;
import com.fasterxml.jackson.databind.type.TypeFactory;
import io.vertx.core.json.JsonArray;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Proxy;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Views a {@link RemoteObject} through a Java interface: each interface method calls the remote
 * method of the same name (or the one named by {@link Remote}), arguments and results converted
 * with Jackson. A method returning {@code CompletableFuture<T>}, {@code CompletionStage<T>} or
 * {@code Future<T>} does not block (it is given a CompletableFuture), and cancelling its future
 * withdraws a call the server holds parked, as {@link RemoteObject#callAsync} does. A result is never
 * coerced: one the return type does not take as it is (2.7 or null for an {@code int}, 1 for a
 * {@code boolean} or a {@code String}) throws a {@link ClassCastException} naming the method (an
 * asynchronous method's future fails with it). Integral types take whole numbers, {@code 2.0} too.
 * An {@code Optional<T>} result is empty for null; an {@code Optional} argument is sent as its
 * value, or null when empty. Type variables of generic super-interfaces take the arguments the
 * viewed interface gives them ({@code interface PtBox extends Box<Pt>}).
 *
 * <p>The interface's methods are checked when the view is made: a return type with a type
 * variable nothing binds, one Jackson can make no value of (an interface such as
 * {@code Runnable}), or a {@code byte[]} parameter, which no frame can carry, is refused then
 * with an {@link IllegalArgumentException} naming the method, rather than after a call has run.
 *
 * <p>A default method runs its own body here, calling the proxy's other methods; only abstract
 * methods reach the remote object. {@code toString} and {@code hashCode} describe the viewed
 * object, and two proxies are {@code equals} when they view the same object. In a native image,
 * register the interface for dynamic proxies.
 */
public final class TypedProxy {
    private TypedProxy() {
    }

    /**
     * How each interface calls: checked once per interface, so a type that cannot work is refused
     * by {@code as} rather than after a call has run (a take whose item is then lost).
     */
    private static final ClassValue<Map<Method, Call>> CALLS = new ClassValue<>() {
        @Override
        protected Map<Method, Call> computeValue(Class<?> type) {
            return calls(type);
        }
    };

    static <T> T create(RemoteObject target, Class<T> type) {
        if (!type.isInterface()) {
            throw new IllegalArgumentException(type.getName() + " is not an interface");
        }
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                new Handler(target, CALLS.get(type))));
    }

    /** A remote method as the proxied interface declares it, its type variables resolved. */
    private static final class Call {
        final String name;
        final boolean async;
        /** The result's type; for an asynchronous method, its future's. */
        final JavaType result;

        Call(String name, boolean async, JavaType result) {
            this.name = name;
            this.async = async;
            this.result = result;
        }
    }

    private static Map<Method, Call> calls(Class<?> type) {
        TypeFactory types = JsonMapping.types();
        JavaType proxied = types.constructType(type);
        Map<TypeVariable<?>, Type> bound = new HashMap<>();
        bindings(type, bound);
        Map<Method, Call> calls = new HashMap<>();
        for (Method m : type.getMethods()) {
            if (m.isDefault() || java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            // Generic super-interfaces (PtBox extends Box<Pt>): T is Pt here.
            JavaType declaring = proxied.findSuperType(m.getDeclaringClass());
            TypeBindings bindings = declaring == null ? TypeBindings.emptyBindings() : declaring.getBindings();
            String where = m.getDeclaringClass().getSimpleName() + "." + m.getName() + "()";
            for (Class<?> p : m.getParameterTypes()) {
                if (p == byte[].class || io.vertx.core.buffer.Buffer.class.isAssignableFrom(p)) {
                    // JsonValues refuses these: every call but one with null would fail.
                    throw refused(type, where, "a " + p.getSimpleName() + " cannot be sent (JSON has no bytes)");
                }
            }
            Type ret = m.getGenericReturnType();
            if (!resolved(ret, bound)) {
                throw refused(type, where, "its return type " + ret.getTypeName() + " has a type variable that "
                        + type.getSimpleName() + " does not bind, so its results could not be converted");
            }
            JavaType result = types.resolveMemberType(ret, bindings);
            // Future, CompletionStage and CompletableFuture: all are given a CompletableFuture.
            boolean async = m.getReturnType() != Object.class && m.getReturnType().isAssignableFrom(CompletableFuture.class);
            if (async) {
                result = result.containedTypeOrUnknown(0);
            }
            String why = JsonMapping.unconstructible(result);
            if (why != null) {
                throw refused(type, where, "its result type " + result.toCanonical() + " cannot be made from JSON: " + why);
            }
            Remote remote = m.getAnnotation(Remote.class);
            calls.put(m, new Call(remote != null ? remote.value() : m.getName(), async, result));
        }
        return calls;
    }

    private static IllegalArgumentException refused(Class<?> type, String method, String why) {
        return new IllegalArgumentException("cannot view a remote object as " + type.getName() + ": " + method + " cannot work, as "
                + why);
    }

    /** What the type variables of {@code type}'s super-interfaces stand for, as it declares them. */
    private static void bindings(Class<?> type, Map<TypeVariable<?>, Type> bound) {
        for (Type s : type.getGenericInterfaces()) {
            if (s instanceof ParameterizedType) {
                Class<?> raw = (Class<?>) ((ParameterizedType) s).getRawType();
                Type[] args = ((ParameterizedType) s).getActualTypeArguments();
                TypeVariable<?>[] vars = raw.getTypeParameters();
                for (int i = 0; i < vars.length; i++) {
                    bound.put(vars[i], args[i]);
                }
                bindings(raw, bound);
            } else if (s instanceof Class) {
                bindings((Class<?>) s, bound);
            }
        }
    }

    /**
     * False when {@code t} has a type variable that nothing binds: the method's own, the proxied
     * interface's, or one a raw super-interface leaves open (Jackson would quietly take Object).
     */
    private static boolean resolved(Type t, Map<TypeVariable<?>, Type> bound) {
        if (t instanceof TypeVariable) {
            Type b = bound.get(t);
            return b != null && resolved(b, bound);
        }
        if (t instanceof ParameterizedType) {
            return Arrays.stream(((ParameterizedType) t).getActualTypeArguments()).allMatch(a -> resolved(a, bound));
        }
        if (t instanceof GenericArrayType) {
            return resolved(((GenericArrayType) t).getGenericComponentType(), bound);
        }
        if (t instanceof WildcardType) {
            WildcardType w = (WildcardType) t;
            return Stream.concat(Arrays.stream(w.getUpperBounds()), Arrays.stream(w.getLowerBounds()))
                    .allMatch(a -> resolved(a, bound));
        }
        return true;
    }

    /** The object a typed proxy views; null for anything else. */
    private static RemoteObject target(Object proxy) {
        if (proxy == null || !Proxy.isProxyClass(proxy.getClass())) {
            return null;
        }
        InvocationHandler h = Proxy.getInvocationHandler(proxy);
        return h instanceof Handler ? ((Handler) h).target : null;
    }

    private static final class Handler implements InvocationHandler {
        final RemoteObject target;
        final Map<Method, Call> calls;

        Handler(RemoteObject target, Map<Method, Call> calls) {
            this.target = target;
            this.calls = calls;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (method.getDeclaringClass() == Object.class) {
                return objectMethod(target, method, args);
            }
            if (method.isDefault()) {
                // The interface's own code, run here: it calls the proxy's other methods itself.
                try {
                    return InvocationHandler.invokeDefault(proxy, method, args);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("cannot run the default method " + method.getName() + " of "
                            + method.getDeclaringClass().getName() + " (make the interface public)", e);
                }
            }
            return remote(target, method, calls.get(method), args);
        }
    }

    /**
     * {@code toString}, {@code hashCode} and {@code equals} of a proxy, answered here: two
     * proxies are equal when they view the same object, whatever their interfaces.
     */
    private static Object objectMethod(RemoteObject target, Method method, Object[] args) {
        switch (method.getName()) {
            case "toString":
                return target.toString();
            case "hashCode":
                return target.id().hashCode();
            case "equals":
                RemoteObject other = target(args[0]);
                return other != null && other.id().equals(target.id());
            default:
                throw new UnsupportedOperationException(method.getName());
        }
    }

    private static Object remote(RemoteObject target, Method method, Call call, Object[] args) {
        JsonArray jsonArgs = new JsonArray();
        if (args != null) {
            for (Object a : args) {
                // An Optional is its value or null, as the peer has no such type.
                jsonArgs.add(a instanceof Optional ? ((Optional<?>) a).orElse(null) : a);
            }
        }
        if (call.async) {
            CompletableFuture<Object> answer = target.callAsync(call.name, jsonArgs, null);
            return new Converted(answer, v -> result(method, call, v));
        }
        return result(method, call, target.call(call.name, jsonArgs, null));
    }

    /** The call's result as the method declares it; a result it does not take is an error, not a coerced value. */
    private static Object result(Method method, Call call, Object value) {
        try {
            return JsonMapping.toJava(value, call.result);
        } catch (JsonMapping.Mismatch e) {
            ClassCastException c = new ClassCastException(method.getDeclaringClass().getSimpleName() + "." + method.getName()
                    + "(): the result of '" + call.name + "' cannot be converted to " + call.result.toCanonical()
                    + ": " + e.getMessage());
            c.initCause(e);
            throw c;
        }
    }

    /**
     * The converted result of an asynchronous call. Unlike {@code thenApply}'s future, cancelling
     * it cancels the call itself, so a call the server holds parked is withdrawn there instead of
     * taking an item whose answer nobody reads.
     */
    private static final class Converted extends CompletableFuture<Object> {
        private final CompletableFuture<Object> call;

        Converted(CompletableFuture<Object> call, Function<Object, Object> convert) {
            this.call = call;
            call.whenComplete((value, error) -> {
                if (error != null) {
                    completeExceptionally(error);
                    return;
                }
                try {
                    complete(convert.apply(value));
                } catch (RuntimeException e) {
                    completeExceptionally(e);
                }
            });
        }

        /** As the call's own future: false while a withdrawal is asked for, then this ends cancelled. */
        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            call.cancel(mayInterruptIfRunning);
            return isCancelled();
        }
    }
}
