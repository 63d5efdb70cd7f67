package dev.orch.client;

import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Hosts a plain Java object: its public instance methods (not those of {@link Object}) are the
 * exposed methods, chosen by name and argument count; arguments are converted from JSON with
 * Jackson, never coerced: an argument the parameter's type does not take as it is (1.5 or null for
 * an {@code int}, 1 for a {@code String}) fails the call with a {@code TypeError}. Integral
 * parameters take whole numbers, {@code 2.0} too. Keyword arguments are not supported. In a native image, register the class for
 * reflection.
 */
public final class ReflectiveObject implements HostedObject {
    private final Object target;

    public ReflectiveObject(Object target) {
        this.target = target;
    }

    /** The public instance method names of {@code type}, sorted. */
    public static List<String> exposedMethods(Class<?> type) {
        TreeSet<String> names = new TreeSet<>();
        for (Method m : type.getMethods()) {
            if (m.getDeclaringClass() != Object.class && !Modifier.isStatic(m.getModifiers())) {
                names.add(m.getName());
            }
        }
        return new ArrayList<>(names);
    }

    @Override
    public Object call(String method, JsonArray args, JsonObject kwargs, String callerSession) {
        if (kwargs != null && !kwargs.isEmpty()) {
            throw OrchException.raised("TypeError", method + "() takes no keyword arguments");
        }
        Method chosen = null;
        for (Method m : target.getClass().getMethods()) {
            if (m.getName().equals(method) && m.getParameterCount() == args.size()
                    && m.getDeclaringClass() != Object.class && !Modifier.isStatic(m.getModifiers())) {
                chosen = m;
                break;
            }
        }
        if (chosen == null) {
            if (exposedMethods(target.getClass()).contains(method)) {
                throw OrchException.raised("TypeError", method + "() does not take " + args.size() + " arguments");
            }
            throw OrchException.notFound("'" + target.getClass().getSimpleName() + "' object has no method '" + method + "'");
        }
        Object[] javaArgs = new Object[args.size()];
        java.lang.reflect.Type[] types = chosen.getGenericParameterTypes();
        for (int i = 0; i < javaArgs.length; i++) {
            try {
                javaArgs[i] = JsonMapping.toJava(args.getValue(i), types[i]);
            } catch (JsonMapping.Mismatch e) {
                throw OrchException.raised("TypeError", method + "() argument " + (i + 1) + ": " + e.getMessage());
            }
        }
        try {
            return JsonMapping.toJson(chosen.invoke(target, javaArgs));
        } catch (InvocationTargetException e) {
            throw HostedAnswers.asOrchException(e.getCause());
        } catch (IllegalAccessException e) {
            throw OrchException.raised("TypeError", "method " + method + " is not accessible");
        }
    }
}
