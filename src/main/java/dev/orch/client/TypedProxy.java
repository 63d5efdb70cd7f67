package dev.orch.client;

import io.vertx.core.json.JsonArray;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Proxy;
import java.lang.reflect.Type;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Views a {@link RemoteObject} through a Java interface: each interface method calls the remote
 * method of the same name (or the one named by {@link Remote}), arguments and results converted
 * with Jackson. A method returning {@code CompletableFuture<T>} does not block, and cancelling
 * its future withdraws a call the server holds parked, as {@link RemoteObject#callAsync} does. A result is never
 * coerced: one the return type does not take as it is (2.7 or null for an {@code int}, 1 for a
 * {@code boolean} or a {@code String}) throws a {@link ClassCastException} naming the method (an
 * asynchronous method's future fails with it). Integral types take whole numbers, {@code 2.0} too.
 *
 * <p>A default method runs its own body here, calling the proxy's other methods; only abstract
 * methods reach the remote object. {@code toString} and {@code hashCode} describe the viewed
 * object, and two proxies are {@code equals} when they view the same object. In a native image,
 * register the interface for dynamic proxies.
 */
public final class TypedProxy {
    private TypedProxy() {
    }

    static <T> T create(RemoteObject target, Class<T> type) {
        if (!type.isInterface()) {
            throw new IllegalArgumentException(type.getName() + " is not an interface");
        }
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, new Handler(target)));
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

        Handler(RemoteObject target) {
            this.target = target;
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
            return remote(target, method, args);
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

    private static Object remote(RemoteObject target, Method method, Object[] args) {
        Remote remote = method.getAnnotation(Remote.class);
        String name = remote != null ? remote.value() : method.getName();
        JsonArray jsonArgs = new JsonArray();
        if (args != null) {
            for (Object a : args) {
                jsonArgs.add(a);
            }
        }
        Type ret = method.getGenericReturnType();
        if (method.getReturnType() == CompletableFuture.class) {
            CompletableFuture<Object> call = target.callAsync(name, jsonArgs, null);
            Type inner = ret instanceof ParameterizedType ? ((ParameterizedType) ret).getActualTypeArguments()[0] : Object.class;
            return new Converted(call, v -> result(method, name, v, inner));
        }
        return result(method, name, target.call(name, jsonArgs, null), ret);
    }

    /** The call's result as the method declares it; a result it does not take is an error, not a coerced value. */
    private static Object result(Method method, String name, Object value, Type type) {
        try {
            return JsonMapping.toJava(value, type);
        } catch (JsonMapping.Mismatch e) {
            ClassCastException c = new ClassCastException(method.getDeclaringClass().getSimpleName() + "." + method.getName()
                    + "(): the result of '" + name + "' cannot be converted to " + type.getTypeName() + ": " + e.getMessage());
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
